// Miaoya console: plain browser JavaScript, no framework, no build step. Served by `miaoya serve` at / (BrowserConsole.cs)
// under a Content-Security-Policy that allows scripts and styles only as files from this server.
//
// Authorisation: the API key is kept in sessionStorage (this tab only) and sent as the X-Api-Key header on every fetch.
// It never goes into a URL: images are fetched with the header and shown from blob: URLs, and the event stream, which an
// EventSource cannot send headers to, is opened with a short-lived token from POST /v1/event-tokens (?access_token=).
'use strict';

(() => {
  const KEY_STORAGE = 'miaoya.apiKey';
  const EVENT_NAMES = ['job_created', 'step_started', 'step_progress', 'step_returned', 'step_retrying', 'step_finished', 'step_failed',
    'job_succeeded', 'job_failed', 'job_cancelled', 'job_deleted'];
  const TERMINAL = new Set(['job_succeeded', 'job_failed', 'job_cancelled', 'job_deleted']);
  const MAX_EVENTS_SHOWN = 500;

  const $ = (id) => document.getElementById(id);

  /** An answer of the API that is not a success, with the problem details' text (RFC 7807 detail) when there is one. */
  class ApiError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }

  // ---- calls ----

  /** A URL of this server: relative paths resolve against the page, so the console also works under a path base. */
  const url = (path) => new URL(path, document.baseURI).toString();

  function key() {
    return sessionStorage.getItem(KEY_STORAGE);
  }

  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    const k = key();
    if (k) {
      headers['X-Api-Key'] = k;
    }

    let response;
    try {
      response = await fetch(url(path), { method, headers, body, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      throw new ApiError(0, `The server did not answer (${e.message}). Is miaoya serve still running?`);
    }

    if (!response.ok) {
      throw await problem(response);
    }

    return response;
  }

  async function callJson(method, path, body) {
    const response = await call(method, path, body);
    return response.status === 204 ? null : response.json();
  }

  async function problem(response) {
    let text = '';
    let field;
    try {
      const p = await response.json();
      text = p.detail || p.title || '';
      field = p.field;
    } catch {
      // Not problem details (a proxy's page): the status line says enough.
    }

    const what = response.status === 401 ? 'The server refused the API key' : (response.statusText || 'Error');
    return new ApiError(response.status, `${response.status} ${what}${text ? ': ' + text : '.'}`, field);
  }

  function showError(id, error) {
    const p = $(id);
    if (!error) {
      p.hidden = true;
      p.textContent = '';
      return;
    }

    p.textContent = error instanceof ApiError ? error.message : `Unexpected error: ${error.message || error}`;
    p.hidden = false;
    if (error instanceof ApiError && error.status === 401 && id !== 'key-error') {
      // The key was changed or revoked on the server: ask for it again.
      showError('key-error', error);
    }
  }

  // ---- small formatting helpers ----

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (className) {
      td.className = className;
    }

    row.appendChild(td);
    return td;
  }

  function seconds(s) {
    if (s === null || s === undefined) {
      return '';
    }

    if (s < 60) {
      return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    }

    const m = Math.floor(s / 60);
    return `${m} min ${Math.round(s - m * 60)} s`;
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : '';
  }

  // ---- key ----

  async function connect(quiet) {
    showError('key-error', null);
    $('key-status').textContent = 'Connecting…';
    try {
      await loadBoxes();
    } catch (e) {
      $('key-status').textContent = '';
      $('app').hidden = true;
      if (e instanceof ApiError && e.status === 401) {
        sessionStorage.removeItem(KEY_STORAGE);
        if (quiet) {
          $('key-status').textContent = 'Enter the server\'s API key to start.';
          return;
        }
      }

      showError('key-error', e);
      return;
    }

    $('key-status').textContent = key() ? 'Connected with the key of this tab.' : 'Connected (this server needs no key).';
    $('app').hidden = false;
    await Promise.all([loadRecipes(), loadJobs(0)]);
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('api-key');
    sessionStorage.setItem(KEY_STORAGE, input.value.trim());
    input.value = '';
    connect(false);
  });

  $('key-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    stopWatching();
    $('app').hidden = true;
    $('key-status').textContent = 'Key forgotten. Enter it again to continue.';
  });

  // ---- recipes ----

  let recipes = [];

  async function loadRecipes() {
    try {
      recipes = (await callJson('GET', 'v1/recipes')).recipes;
    } catch (e) {
      showError('submit-error', e);
      return;
    }

    const select = $('recipe');
    const chosen = select.value;
    select.replaceChildren();
    for (const r of recipes) {
      const option = document.createElement('option');
      option.value = r.name;
      option.textContent = r.problem ? `${r.name} (broken)` : r.name;
      option.disabled = Boolean(r.problem);
      select.appendChild(option);
    }

    if (recipes.some((r) => r.name === chosen)) {
      select.value = chosen;
    }

    describeRecipe();
  }

  function describeRecipe() {
    const r = recipes.find((x) => x.name === $('recipe').value);
    const help = $('recipe-help');
    if (!r) {
      help.textContent = '';
      return;
    }

    const parts = [];
    if (r.description) {
      parts.push(r.description.trim());
    }

    if (r.base_model) {
      parts.push(`Checkpoint: ${r.base_model}.`);
    }

    parts.push(r.needs_lora ? 'Needs a LoRA.' : 'Takes the person from the face photos (no LoRA).');
    if (r.source === 'folder') {
      parts.push('From the server\'s recipe folder.');
    }

    help.textContent = r.problem ? r.problem : parts.join(' ');
    $('lora').required = Boolean(r.needs_lora);
  }

  $('recipe').addEventListener('change', describeRecipe);

  // ---- submit ----

  $('submit-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('submit-error', null);
    const form = new FormData();
    const template = $('template').files[0];
    if (!template) {
      showError('submit-error', new ApiError(0, 'Choose a template image.'));
      return;
    }

    form.append('template', template, template.name);
    for (const face of $('faces').files) {
      form.append('face', face, face.name);
    }

    form.append('recipe', $('recipe').value);
    for (const name of ['lora', 'trigger', 'identity', 'seed']) {
      const value = $(name).value.trim();
      if (value) {
        form.append(name, value);
      }
    }

    const button = $('submit-job');
    button.disabled = true;
    $('submit-status').textContent = 'Uploading…';
    try {
      const job = await callJson('POST', 'v1/jobs', form);
      $('submit-status').textContent = `Queued job ${job.id}.`;
      watch(job.id);
      loadJobs(0);
    } catch (error) {
      $('submit-status').textContent = '';
      showError('submit-error', error);
    } finally {
      button.disabled = false;
    }
  });

  // ---- watching one job ----

  let watched = null; // { id, source, lastEventId, finished, progress: Map(step -> data), images: Map(url -> blob URL), timer, refreshing, again }

  function stopWatching() {
    if (!watched) {
      return;
    }

    if (watched.source) {
      watched.source.close();
    }

    clearTimeout(watched.timer);
    for (const blobUrl of watched.images.values()) {
      URL.revokeObjectURL(blobUrl);
    }

    watched = null;
  }

  async function watch(id) {
    stopWatching();
    watched = { id, source: null, lastEventId: null, finished: false, progress: new Map(), images: new Map(), timer: 0, refreshing: null, again: false };
    $('watch-panel').hidden = false;
    $('watch-id').textContent = id;
    $('watch-state').textContent = 'Loading…';
    $('events').replaceChildren();
    $('outputs').replaceChildren();
    $('steps-body').replaceChildren();
    showError('watch-error', null);
    await refreshJob();
    openEvents();
  }

  async function openEvents() {
    const current = watched;
    if (!current || current.finished) {
      return;
    }

    let token;
    try {
      token = (await callJson('POST', 'v1/event-tokens')).token;
    } catch (e) {
      showError('watch-error', e);
      return;
    }

    if (current !== watched) {
      return;
    }

    let path = `v1/jobs/${encodeURIComponent(current.id)}/events?access_token=${encodeURIComponent(token)}`;
    if (current.lastEventId) {
      path += `&last_event_id=${encodeURIComponent(current.lastEventId)}`;
    }

    const source = new EventSource(url(path));
    current.source = source;
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (e) => onEvent(current, name, e));
    }

    source.addEventListener('error', () => {
      if (current !== watched || current.finished) {
        source.close();
        return;
      }

      if (source.readyState === EventSource.CLOSED) {
        // Refused (an expired token, a restarted server): a new token, resuming after the last event seen.
        current.timer = setTimeout(openEvents, 2000);
      }
    });
  }

  function onEvent(current, name, e) {
    if (current !== watched) {
      return;
    }

    if (e.lastEventId) {
      current.lastEventId = e.lastEventId;
    }

    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      data = {};
    }

    logEvent(name, data);
    if (name === 'step_progress' && data.step) {
      current.progress.set(data.step, data.data || {});
    }

    if (data.eta_s !== undefined) {
      current.eta = data.eta_s;
    }

    updateSteps(current, name, data);
    if (TERMINAL.has(name)) {
      current.finished = true;
      current.source.close();
      if (name === 'job_deleted') {
        $('watch-state').textContent = 'This job was deleted.';
      } else {
        refreshJob();
      }

      loadJobs(jobsPage.index);
      loadBoxes().catch((error) => showError('boxes-error', error));
    } else if (name === 'step_finished' || name === 'step_failed') {
      refreshJob();
    }
  }

  function logEvent(name, e) {
    const list = $('events');
    const li = document.createElement('li');
    li.dataset.kind = name;
    const d = e.data || {};
    const parts = [new Date(e.at || Date.now()).toLocaleTimeString(), name];
    if (e.step) {
      parts.push(e.step);
    }

    if (name === 'step_progress') {
      if (typeof d.fraction === 'number') {
        parts.push(`${Math.round(d.fraction * 100)} %`);
      }

      if (d.eta_s !== null && d.eta_s !== undefined) {
        parts.push(`step ETA ${seconds(d.eta_s)}`);
      }

      if (d.message) {
        parts.push(d.message);
      }
    } else if (d.error) {
      parts.push(d.error);
      li.className = 'failed';
    } else if (d.outputs && d.outputs.length) {
      parts.push(d.outputs.map((o) => o.file).join(', '));
    }

    if (e.eta_s !== null && e.eta_s !== undefined && !TERMINAL.has(name)) {
      parts.push(`job ETA ${seconds(e.eta_s)}`);
    }

    li.textContent = parts.join(' · ');
    list.appendChild(li);
    while (list.children.length > MAX_EVENTS_SHOWN) {
      list.firstElementChild.remove();
    }

    // Keep the newest event in view inside the log, without scrolling the page away from what the user looks at.
    list.scrollTop = list.scrollHeight;
  }

  /** Refreshes the job (steps, outputs); a call while one runs makes it read the job once more when it is done. */
  function refreshJob() {
    const current = watched;
    if (!current) {
      return Promise.resolve();
    }

    if (current.refreshing) {
      current.again = true;
      return current.refreshing;
    }

    current.refreshing = (async () => {
      try {
        do {
          current.again = false;
          const job = await callJson('GET', `v1/jobs/${encodeURIComponent(current.id)}`);
          if (current !== watched) {
            return;
          }

          renderJob(current, job);
          await showOutputs(current, job);
        } while (current.again && current === watched);
      } catch (e) {
        if (current === watched) {
          showError('watch-error', e);
        }
      } finally {
        current.refreshing = null;
      }
    })();
    return current.refreshing;
  }

  function renderJob(current, job) {
    current.job = job;
    const state = $('watch-state');
    state.className = `state-${job.state}`;
    let text = `State: ${job.state}. Recipe ${job.recipe || '(inline)'}`;
    if (job.lora) {
      text += `, LoRA ${job.lora}`;
    }

    if (job.eta_s !== null && job.eta_s !== undefined && (job.state === 'queued' || job.state === 'running')) {
      text += `. About ${seconds(job.eta_s)} left`;
    }

    if (job.error) {
      text += `. ${job.error}`;
    }

    state.textContent = text + '.';
    const body = $('steps-body');
    body.replaceChildren();
    for (const s of job.steps) {
      const row = document.createElement('tr');
      row.dataset.step = s.name;
      cell(row, s.index + 1, 'num');
      cell(row, s.name);
      cell(row, s.state + (s.attempts > 1 ? ` (attempt ${s.attempts})` : ''), `state-${s.state}`);
      const progressCell = cell(row, '');
      const bar = document.createElement('progress');
      bar.max = 1;
      bar.setAttribute('aria-label', `${s.name} progress`);
      progressCell.appendChild(bar);
      cell(row, '', 'num eta');
      cell(row, s.box || '');
      cell(row, s.duration_s !== null ? seconds(s.duration_s) : '', 'num');
      body.appendChild(row);
      paintStep(current, row, s.state);
    }
  }

  function paintStep(current, row, state) {
    const bar = row.querySelector('progress');
    const eta = row.querySelector('.eta');
    const p = current.progress.get(row.dataset.step);
    if (state === 'succeeded') {
      bar.value = 1;
      eta.textContent = '';
    } else if (state === 'running' && p && typeof p.fraction === 'number') {
      bar.value = p.fraction;
      eta.textContent = p.eta_s !== null && p.eta_s !== undefined ? seconds(p.eta_s) : '';
      if (p.message) {
        bar.title = p.message;
      }
    } else if (state === 'running') {
      bar.removeAttribute('value'); // indeterminate until the first report
    } else {
      bar.value = 0;
    }
  }

  function updateSteps(current, name, e) {
    if (!e.step) {
      return;
    }

    const row = [...$('steps-body').rows].find((r) => r.dataset.step === e.step);
    if (!row) {
      return;
    }

    const stateCell = row.cells[2];
    const state = {
      step_started: 'running', step_progress: 'running', step_finished: 'succeeded', step_failed: 'failed', step_retrying: 'pending', step_returned: 'pending',
    }[name];
    if (state) {
      stateCell.textContent = state;
      stateCell.className = `state-${state}`;
      paintStep(current, row, state);
    }
  }

  async function showOutputs(current, job) {
    const container = $('outputs');
    for (const step of job.steps) {
      for (const output of step.outputs) {
        if (current.images.has(output.url)) {
          continue;
        }

        current.images.set(output.url, null);
        try {
          // <img> cannot send the key: fetch the file with the header and show it from a blob: URL.
          const blob = await (await call('GET', output.url)).blob();
          if (current !== watched) {
            return;
          }

          const blobUrl = URL.createObjectURL(blob);
          current.images.set(output.url, blobUrl);
          const figure = document.createElement('figure');
          figure.dataset.file = output.file;
          const caption = document.createElement('figcaption');
          const link = document.createElement('a');
          link.href = blobUrl;
          link.download = output.file;
          link.textContent = `Download ${output.file}`;
          caption.append(`${step.name}: `, link);
          if (blob.type.startsWith('image/')) {
            const img = document.createElement('img');
            img.alt = `${step.name}: ${output.file}`;
            img.src = blobUrl;
            figure.appendChild(img);
          }

          figure.appendChild(caption);
          container.appendChild(figure);
        } catch (e) {
          current.images.delete(output.url);
          showError('watch-error', e);
        }
      }
    }
  }

  // ---- jobs list ----

  const jobsPage = { index: 0, cursors: [null], next: null };

  async function loadJobs(index) {
    const params = new URLSearchParams();
    params.set('limit', $('jobs-limit').value);
    if ($('jobs-state').value) {
      params.set('state', $('jobs-state').value);
    }

    const cursor = jobsPage.cursors[index];
    if (cursor) {
      params.set('after', cursor);
    }

    let page;
    try {
      page = await callJson('GET', `v1/jobs?${params}`);
    } catch (e) {
      showError('jobs-error', e);
      return;
    }

    showError('jobs-error', null);
    jobsPage.index = index;
    jobsPage.next = page.next || null;
    jobsPage.cursors.length = index + 1;
    if (jobsPage.next) {
      jobsPage.cursors.push(jobsPage.next);
    }

    const body = $('jobs-body');
    body.replaceChildren();
    for (const job of page.jobs) {
      const row = document.createElement('tr');
      row.dataset.job = job.id;
      cell(row, when(job.created_at));
      const idCell = cell(row, '');
      const code = document.createElement('code');
      code.textContent = job.id;
      idCell.appendChild(code);
      cell(row, job.state, `state-${job.state}`);
      cell(row, job.recipe || '(inline)');
      cell(row, [job.lora, job.identity].filter(Boolean).join(' / '));
      const actions = cell(row, '');
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'secondary';
      open.textContent = 'Watch';
      open.setAttribute('aria-label', `Watch job ${job.id}`);
      open.addEventListener('click', () => watch(job.id));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'danger';
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete job ${job.id}`);
      remove.addEventListener('click', () => deleteJob(job.id));
      actions.append(open, ' ', remove);
      body.appendChild(row);
    }

    if (page.jobs.length === 0) {
      const row = document.createElement('tr');
      cell(row, index === 0 ? 'No jobs yet.' : 'No more jobs.').colSpan = 6;
      body.appendChild(row);
    }

    $('jobs-page').textContent = `Page ${index + 1}`;
    $('jobs-newer').disabled = index === 0;
    $('jobs-older').disabled = !jobsPage.next;
  }

  async function deleteJob(id) {
    if (!window.confirm(`Delete job ${id} and every file of it? A running job is cancelled.`)) {
      return;
    }

    try {
      await call('DELETE', `v1/jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      showError('jobs-error', e);
      return;
    }

    if (watched && watched.id === id) {
      stopWatching();
      $('watch-panel').hidden = true;
    }

    await loadJobs(jobsPage.index);
    if ($('jobs-body').rows.length === 1 && !$('jobs-body').rows[0].dataset.job && jobsPage.index > 0) {
      await loadJobs(jobsPage.index - 1);
    }
  }

  $('jobs-form').addEventListener('submit', (e) => {
    e.preventDefault();
    jobsPage.cursors = [null];
    loadJobs(0);
  });
  $('jobs-state').addEventListener('change', () => {
    jobsPage.cursors = [null];
    loadJobs(0);
  });
  $('jobs-limit').addEventListener('change', () => {
    jobsPage.cursors = [null];
    loadJobs(0);
  });
  $('jobs-newer').addEventListener('click', () => loadJobs(Math.max(0, jobsPage.index - 1)));
  $('jobs-older').addEventListener('click', () => loadJobs(jobsPage.index + 1));

  // ---- boxes ----

  async function loadBoxes() {
    const view = await callJson('GET', 'v1/backends');
    showError('boxes-error', null);
    const q = view.queue;
    $('boxes-queue').textContent = `${q.queued_jobs} queued, ${q.running_jobs} running; ${q.steps_running_here} steps running here, ${q.calls_waiting_for_a_box} calls waiting for a box.`;
    const body = $('boxes-body');
    body.replaceChildren();
    for (const b of view.boxes) {
      const row = document.createElement('tr');
      row.dataset.box = b.name;
      const name = cell(row, b.name);
      name.title = b.url;
      cell(row, b.health, `health-${b.health}`);
      cell(row, [b.backend, b.server].filter(Boolean).join(' '));
      cell(row, b.loaded_checkpoint || '');
      cell(row, b.in_flight, 'num');
      cell(row, b.waiting, 'num');
      cell(row, b.calls, 'num');
      cell(row, b.failures, 'num');
      cell(row, b.mean_call_seconds !== null ? seconds(b.mean_call_seconds) : '', 'num');
      cell(row, b.last_error || '');
      body.appendChild(row);
    }

    if (view.boxes.length === 0) {
      const row = document.createElement('tr');
      cell(row, 'No boxes configured.').colSpan = 10;
      body.appendChild(row);
    }
  }

  $('boxes-refresh').addEventListener('click', () => loadBoxes().catch((e) => showError('boxes-error', e)));

  // ---- start ----

  connect(true);
})();
