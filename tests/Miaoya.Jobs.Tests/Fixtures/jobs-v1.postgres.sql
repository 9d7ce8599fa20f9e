-- A version-1 Miaoya job database (PostgreSQL), as the release before schema migrations wrote it: the DDL of
-- PostgresJobStore.SchemaV1 and the rows of five jobs (succeeded, failed, cancelled, running, queued) with their steps
-- and events, dumped (pg_dump --inserts) from a database that code filled. Unqualified names: run with search_path set
-- to an empty schema. Regenerate only from that release, never from newer code.
CREATE TABLE miaoya_schema (version BIGINT NOT NULL);
CREATE TABLE jobs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    recipe TEXT NOT NULL,
    recipe_inline BIGINT NOT NULL,
    inputs TEXT NOT NULL,
    output_folder TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    max_attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL);
CREATE INDEX jobs_state ON jobs (state, seq);
CREATE TABLE steps (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    box TEXT,
    worker TEXT,
    lease_until BIGINT,
    next_attempt_at BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL,
    outputs TEXT NOT NULL,
    PRIMARY KEY (job_id, idx));
CREATE INDEX steps_state ON steps (state);
CREATE TABLE events (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    step TEXT,
    data TEXT,
    PRIMARY KEY (job_id, seq));
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (1, '0196a000-0000-7000-8000-000000000001', 'v2', 0, '{"template":"template.png","identity":"alice","lora":"alice_v1"}', '/srv/miaoya/jobs/0196a000-0000-7000-8000-000000000001', 'succeeded', NULL, 3, 1793520000000, 1793520039000);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (2, '0196a000-0000-7000-8000-000000000002', 'v2', 0, '{"template":"template.png","identity":"bob","lora":"alice_v1"}', '/srv/miaoya/jobs/0196a000-0000-7000-8000-000000000002', 'failed', 'step ''inpaint'' failed after 2 attempt(s): LoRA ''bob_v1'' is not installed on box-2', 3, 1793520339000, 1793520350000);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (3, '0196a000-0000-7000-8000-000000000003', 'v2', 0, '{"template":"template.png","identity":"carol","lora":"alice_v1"}', '/srv/miaoya/jobs/0196a000-0000-7000-8000-000000000003', 'cancelled', 'deleted by operator', 3, 1793520650000, 1793520680000);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (4, '0196a000-0000-7000-8000-000000000004', 'v2', 0, '{"template":"template.png","identity":"dave","lora":"alice_v1"}', '/srv/miaoya/jobs/0196a000-0000-7000-8000-000000000004', 'running', NULL, 3, 1793520980000, 1793520982000);
INSERT INTO jobs OVERRIDING SYSTEM VALUE VALUES (5, '0196a000-0000-7000-8000-000000000005', 'pipeline: v1
', 1, '{"template":"template.png","identity":"erin","lora":"alice_v1"}', '/srv/miaoya/jobs/0196a000-0000-7000-8000-000000000005', 'queued', NULL, 5, 1793520992000, 1793520992000);
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000004', 1, 'inpaint', 'running', 1, NULL, 1793520982000, NULL, 'box-1', 'host-b/1', 1793521102000, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000001', 0, 'interrogate', 'succeeded', 1, NULL, 1793520000000, 1793520003000, 'box-1', 'host-a/1', NULL, 0, 0, '[{"file":"00-interrogate.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000005', 0, 'inpaint', 'pending', 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000001', 1, 'mask', 'succeeded', 1, NULL, 1793520003000, 1793520004000, 'local', 'host-a/1', NULL, 0, 0, '[{"file":"01-mask.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000001', 2, 'inpaint', 'succeeded', 1, NULL, 1793520004000, 1793520024000, 'box-1', 'host-a/1', NULL, 0, 0, '[{"file":"02-inpaint.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000001', 3, 'img2img', 'succeeded', 1, NULL, 1793520024000, 1793520039000, 'box-1', 'host-a/1', NULL, 0, 0, '[{"file":"03-img2img.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000002', 0, 'interrogate', 'succeeded', 1, NULL, 1793520339000, 1793520341000, NULL, 'host-a/2', NULL, 0, 0, '[{"file":"00-interrogate.png","sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000002', 1, 'mask', 'succeeded', 1, NULL, 1793520341000, 1793520343000, NULL, 'host-a/2', NULL, 0, 0, '[{"file":"01-mask.png","sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000002', 2, 'inpaint', 'failed', 2, 'LoRA ''bob_v1'' is not installed on box-2', 1793520350000, 1793520350000, NULL, 'host-a/2', NULL, 1793520349000, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000002', 3, 'img2img', 'cancelled', 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000003', 0, 'interrogate', 'cancelled', 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000003', 1, 'mask', 'cancelled', 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000003', 2, 'inpaint', 'cancelled', 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000003', 3, 'img2img', 'cancelled', 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, '[]');
INSERT INTO steps VALUES ('0196a000-0000-7000-8000-000000000004', 0, 'interrogate', 'succeeded', 1, NULL, 1793520980000, 1793520982000, NULL, 'host-b/1', NULL, 0, 0, '[{"file":"00-interrogate.txt","sha256":"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"}]');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 1, 1793520000000, 'job_created', NULL, '{"steps":["interrogate","mask","inpaint","img2img"]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 2, 1793520000000, 'step_started', 'interrogate', '{"attempt":1,"worker":"host-a/1"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 3, 1793520001500, 'step_progress', 'interrogate', '{"fraction":0.5,"eta_s":5}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 4, 1793520003000, 'step_finished', 'interrogate', '{"attempt":1,"outputs":[{"file":"00-interrogate.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 5, 1793520003000, 'step_started', 'mask', '{"attempt":1,"worker":"host-a/1"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 6, 1793520003500, 'step_progress', 'mask', '{"fraction":0.5,"eta_s":5}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 7, 1793520004000, 'step_finished', 'mask', '{"attempt":1,"outputs":[{"file":"01-mask.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 8, 1793520004000, 'step_started', 'inpaint', '{"attempt":1,"worker":"host-a/1"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 9, 1793520014000, 'step_progress', 'inpaint', '{"fraction":0.5,"eta_s":5}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 10, 1793520024000, 'step_finished', 'inpaint', '{"attempt":1,"outputs":[{"file":"02-inpaint.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 11, 1793520024000, 'step_started', 'img2img', '{"attempt":1,"worker":"host-a/1"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 12, 1793520031500, 'step_progress', 'img2img', '{"fraction":0.5,"eta_s":5}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 13, 1793520039000, 'step_finished', 'img2img', '{"attempt":1,"outputs":[{"file":"03-img2img.png","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000001', 14, 1793520039000, 'job_succeeded', NULL, NULL);
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 1, 1793520339000, 'job_created', NULL, '{"steps":["interrogate","mask","inpaint","img2img"]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 2, 1793520339000, 'step_started', 'interrogate', '{"attempt":1,"worker":"host-a/2"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 3, 1793520341000, 'step_finished', 'interrogate', '{"attempt":1,"outputs":[{"file":"00-interrogate.png","sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 4, 1793520341000, 'step_started', 'mask', '{"attempt":1,"worker":"host-a/2"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 5, 1793520343000, 'step_finished', 'mask', '{"attempt":1,"outputs":[{"file":"01-mask.png","sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 6, 1793520343000, 'step_started', 'inpaint', '{"attempt":1,"worker":"host-a/2"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 7, 1793520347000, 'step_retrying', 'inpaint', '{"attempt":1,"error":"HTTP 500 from box-2","next_attempt_at":"2026-11-01T08:05:49.0000000\u002B00:00"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 8, 1793520350000, 'step_started', 'inpaint', '{"attempt":2,"worker":"host-a/2"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 9, 1793520350000, 'step_failed', 'inpaint', '{"attempt":2,"error":"LoRA \u0027bob_v1\u0027 is not installed on box-2"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000002', 10, 1793520350000, 'job_failed', NULL, '{"error":"step \u0027inpaint\u0027 failed after 2 attempt(s): LoRA \u0027bob_v1\u0027 is not installed on box-2"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000003', 1, 1793520650000, 'job_created', NULL, '{"steps":["interrogate","mask","inpaint","img2img"]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000003', 2, 1793520680000, 'job_cancelled', NULL, '{"reason":"deleted by operator"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000004', 1, 1793520980000, 'job_created', NULL, '{"steps":["interrogate","inpaint"]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000004', 2, 1793520980000, 'step_started', 'interrogate', '{"attempt":1,"worker":"host-b/1"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000004', 3, 1793520982000, 'step_finished', 'interrogate', '{"attempt":1,"outputs":[{"file":"00-interrogate.txt","sha256":"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"}]}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000004', 4, 1793520982000, 'step_started', 'inpaint', '{"attempt":1,"worker":"host-b/1"}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000004', 5, 1793520982000, 'step_progress', 'inpaint', '{"fraction":0.25}');
INSERT INTO events VALUES ('0196a000-0000-7000-8000-000000000005', 1, 1793520992000, 'job_created', NULL, '{"steps":["inpaint"]}');
INSERT INTO miaoya_schema VALUES (1);
SELECT setval(pg_get_serial_sequence('jobs', 'seq'), 5, true);
