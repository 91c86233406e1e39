export { catalogView, flowView, legView, type LegView, type ReportView, type ScenarioView } from './model.js';
export { ladderRows, type LadderRow } from './ladder.js';
export { reportHtml, liveHtml, type LivePageData } from './page.js';
