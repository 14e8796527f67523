import 'uplot/dist/uPlot.min.css';
import './style.css';
import { startCompareView } from './compare/compare-view';
import { fetchRunList } from './compare/runs-api';
import { startLiveView } from './live-view';

// `pnpm dashboard runs/` shows the compare view; a coordinator or one run's dashboard shows the
// live view, as it always has. The server says which (GET /api/view).
const runs = await fetchRunList();
if (runs) startCompareView(runs);
else startLiveView();
