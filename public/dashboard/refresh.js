// The refresh panel: the run history, "refresh now" with the refresh token (kept in sessionStorage for this
// tab only), live progress of a running run (polled), and a run's rejected rows (which need the token).
import { ApiError, request, token } from './api.js';
import { formatCount, formatDuration, formatMegabytes, formatMoment } from './format.js';

const $ = (selector) => document.querySelector(selector);
const POLL_MS = 500;
const HISTORY = 20;
const REJECTS = 100;
const ACTIVE = ['queued', 'running'];

function cell(content, className) {
  const td = document.createElement('td');
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  if (className) td.className = className;
  return td;
}

function count(run, name) {
  return run.counts?.[name] === undefined ? '' : formatCount(run.counts[name]);
}

function say(selector, text) {
  const node = $(selector);
  node.textContent = text;
  node.hidden = !text;
}

function describe(run) {
  if (run.status === 'queued') return `Refresh ${run.id} is queued.`;
  if (run.status === 'running') {
    const { bytesRead, bytesTotal, rowsRead } = run.progress;
    const read = bytesTotal ? `${formatMegabytes(bytesRead)} of ${formatMegabytes(bytesTotal)}` : formatMegabytes(bytesRead);
    return `Refresh ${run.id} is ${run.phase ?? 'running'}${run.step ? ` (${run.step})` : ''}: ${read} read, ${formatCount(rowsRead)} rows.`;
  }
  if (run.status === 'succeeded') {
    return `Refresh ${run.id} succeeded in ${formatDuration(run.durationMs)}: ${count(run, 'read')} rows read, ${count(run, 'inserted')} inserted, ${count(run, 'updated')} updated, ${count(run, 'rejected')} rejected.`;
  }
  return `Refresh ${run.id} ${run.status}${run.error ? `: ${run.error}` : '.'}`;
}

async function showRejects(run) {
  const panel = $('#rejects');
  panel.hidden = false;
  $('#rejects-title').textContent = `Rejected rows of refresh ${run.id}`;
  $('#rejects-table tbody').replaceChildren();
  say('#rejects-more', '');
  if (!token.get()) {
    say('#rejects-more', 'Rejected rows hold customer data: enter the refresh token above first.');
    return;
  }
  try {
    const answer = await request(`/refreshes/${run.id}/rejects`, { limit: REJECTS });
    $('#rejects-table tbody').replaceChildren(
      ...answer.items.map((reject) => {
        const tr = document.createElement('tr');
        tr.append(cell(formatCount(reject.line), 'num'), cell(reject.reasons.join('; ')), cell(reject.raw, 'raw'));
        return tr;
      }),
    );
    say(
      '#rejects-more',
      answer.total > answer.items.length ? `The first ${answer.items.length} of ${formatCount(answer.total)} rejected rows.` : '',
    );
  } catch (error) {
    say('#rejects-more', error instanceof ApiError && error.status === 401 ? 'The token was refused.' : error.message);
  }
}

function drawRuns(runs) {
  $('#runs-table tbody').replaceChildren(
    ...runs.map((run) => {
      const tr = document.createElement('tr');
      let rejects = '';
      if (run.counts?.rejected) {
        rejects = document.createElement('button');
        rejects.type = 'button';
        rejects.textContent = `Show ${formatCount(run.counts.rejected)}`;
        rejects.setAttribute('aria-label', `Show the rejected rows of refresh ${run.id}`);
        rejects.addEventListener('click', () => showRejects(run));
      }
      const status = cell(run.status, `status-${run.status}`);
      if (run.error) status.title = run.error;
      tr.append(
        cell(String(run.id)),
        status,
        cell(formatMoment(run.startedAt)),
        cell(formatDuration(run.durationMs), 'num'),
        cell(run.source),
        cell(count(run, 'read'), 'num'),
        cell(count(run, 'inserted'), 'num'),
        cell(count(run, 'updated'), 'num'),
        cell(count(run, 'rejected'), 'num'),
        cell(rejects),
      );
      return tr;
    }),
  );
  $('[data-empty="runs"]').hidden = runs.length > 0;
}

export function startRefreshPanel({ onLoaded }) {
  let polling;

  async function loadHistory() {
    try {
      const answer = await request('/refreshes', { limit: HISTORY });
      drawRuns(answer.items);
      const active = answer.items.find((run) => ACTIVE.includes(run.status));
      if (active && polling === undefined) follow(active.id);
    } catch (error) {
      say('#refresh-error', error.message);
    }
  }

  /** Polls a run until it has finished, showing its progress; then the page reloads its figures. */
  async function follow(id) {
    polling = id;
    $('#refresh-progress').hidden = false;
    $('#refresh-start').disabled = true;
    const bar = $('#refresh-bar');
    try {
      for (;;) {
        const run = await request(`/refreshes/${id}`);
        $('#refresh-state').textContent = describe(run);
        if (run.status === 'running' && run.progress.bytesTotal) bar.value = run.progress.bytesRead / run.progress.bytesTotal;
        else bar.removeAttribute('value'); // indeterminate
        if (!ACTIVE.includes(run.status)) {
          bar.value = 1;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch (error) {
      say('#refresh-error', error.message);
    } finally {
      polling = undefined;
      $('#refresh-start').disabled = false;
    }
    await loadHistory();
    onLoaded();
  }

  $('#refresh-token').value = token.get();
  // Kept as soon as it is typed: a server with API_TOKEN set needs it for every read too ("Try again").
  $('#refresh-token').addEventListener('change', (event) => token.set(event.target.value.trim()));
  $('#refresh-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    say('#refresh-error', '');
    token.set($('#refresh-token').value.trim());
    const body = {};
    if ($('#refresh-source').value.trim()) body.source = $('#refresh-source').value.trim();
    if ($('#refresh-mode').value) body.mode = $('#refresh-mode').value;
    if ($('#refresh-force').checked) body.force = true;
    try {
      const run = await request('/refreshes', {}, { method: 'POST', body });
      follow(run.id);
    } catch (error) {
      if (error.status === 409 && error.problem?.activeRun) {
        say('#refresh-error', error.message);
        follow(error.problem.activeRun.id);
      } else
        say('#refresh-error', error.status === 401 ? 'The refresh token was refused: check it and try again.' : error.message);
    }
  });
  loadHistory();
}
