// npm start: the HTTP API and the refresh schedule in one process (see service.ts).
import { reportStartupFailure } from './command.js';
import { runService } from './service.js';

await runService({ http: true }).catch(reportStartupFailure);
