/** @gradsync/dashboard/node: the dashboard's server (pages, the live feed, the runs folder), beside the page it serves. */
export * from '../server/index';
