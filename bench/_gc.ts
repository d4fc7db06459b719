// A full garbage collection on demand, without starting node with --expose-gc: suites call it before
// every timed run, so that what one contender left behind is not collected on the next one's clock.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
export const gc = runInNewContext('gc') as () => void;
