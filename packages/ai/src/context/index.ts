// Project context: scanning a project, ranking its files for a query, and explaining why.
export { extractFacts, isSource, languageOf, looksBinary, type FileFacts, type Language } from './extract.js';
export { ProjectIndex } from './project-index.js';
export { GitHistory, parseGitLog, readGitLog, type Commit } from './git-history.js';
export { personalizedPageRank } from './pagerank.js';
export {
  DEFAULT_WEIGHTS,
  rankFiles,
  type FileSignals,
  type RankedFile,
  type RankOptions,
  type RankWeights,
} from './rank.js';
export {
  DEFAULT_MAX_FILE_BYTES,
  scanProject,
  type ScanEntry,
  type ScanOptions,
  type ScanResult,
} from './scan.js';
export { stem, terms } from './terms.js';
export { ContextStore } from './context-store.js';
export { assembleContext, type AssembledFile, type Assembly } from './assemble.js';
export { repoMap } from './repo-map.js';
