// npm start: the HTTP API and the refresh schedule in one process (see service.ts).
import { runService } from './service.js';

await runService({ http: true });
