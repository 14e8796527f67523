import { runTabWorker, type TabScope } from '@gradsync/worker/browser';

// The dedicated Web Worker the "Join this run" control starts; everything it does is runTabWorker's.
runTabWorker(self as unknown as TabScope);
