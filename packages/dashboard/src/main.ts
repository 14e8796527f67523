import 'uplot/dist/uPlot.min.css';
import './style.css';
import { startCompareView } from './compare/compare-view';
import { fetchRunList } from './compare/runs-api';
import { startLiveView } from './live-view';

// `pnpm dashboard runs/` answers /api/runs and shows the compare view; a coordinator or a
// single run answers 404 there and shows the live view, as it always has.
const runs = await fetchRunList();
if (runs) startCompareView(runs);
else startLiveView();
