// npm run scheduler: the refresh schedule alone, for deployments that run the API and the worker apart.
import { reportStartupFailure } from './command.js';
import { runService } from './service.js';

await runService({ http: false }).catch(reportStartupFailure);
