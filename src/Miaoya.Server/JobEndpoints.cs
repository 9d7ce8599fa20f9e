using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Miaoya.Jobs;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>The <c>/v1</c> routes.</summary>
internal static class JobEndpoints
{
    private const int EventBatch = 500;
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>The JSON submission's fields that take one string or an array of strings.</summary>
    private static readonly string[] ListFields = ["trigger", "overrides"];

    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("jobs");

        v1.MapPost("/jobs", SubmitAsync)
            .WithName("SubmitJob")
            .WithSummary("Queue a portrait job")
            .WithDescription("multipart/form-data: files template and face (the person's photo; repeat the field for several, at most 8: V3 swaps the first in, " +
                "an identity recipe (v4-*) takes each, candidates are scored against them all); fields recipe or recipe_yaml, lora (required unless the recipe has an identity section), " +
                "trigger, identity, seed, overrides (key=value, one per line or repeated), face_index, candidates (1..16: best of N by likeness, as overrides candidates.count=N). " +
                "Or application/json with the same names, the images as base64 strings or data: URLs, and the face photos as face (one) or faces (an array), not both. " +
                "Several people in one template: people, a list of {face_index (from 0, left to right), lora, lora_weight, trigger (that person's LoRA trigger words: an array of strings or one comma-separated string; needs lora), faces}, instead of lora, face/faces, face_index, trigger and candidates; " +
                "in JSON each person's faces are images as above, in multipart/form-data people is that list as JSON text and each person's photos are files people[N].faces (N: the person's place in the list).")
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            {
                // Described here rather than with Accepts(), whose content-type check would answer other types with a bare 415.
                var form = await context.GetOrCreateSchemaAsync(typeof(JobSubmissionForm), null, cancellationToken);
                var json = await context.GetOrCreateSchemaAsync(typeof(JobSubmissionJson), null, cancellationToken);
                foreach (var schema in new[] { form, json })
                {
                    // SubmissionReader.Stage: a photo with a recipe name or an inline recipe, or a library template (which may
                    // suggest the recipe).
                    schema.AnyOf =
                    [
                        new OpenApiSchema { Required = new HashSet<string> { "template", "recipe" } },
                        new OpenApiSchema { Required = new HashSet<string> { "template", "recipe_yaml" } },
                        new OpenApiSchema { Required = new HashSet<string> { "template_name" } },
                    ];
                }

                // SubmissionReader.FormPeople: person N's photos as file fields named people[N].faces.
                form.PatternProperties = new Dictionary<string, IOpenApiSchema>
                {
                    [@"^people\[[0-7]\]\.faces$"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        MaxItems = JobSubmission.MaxFacePhotos,
                        Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                        Description = "Face photos of person N of people (N from 0, their place in the list), one file per field, each showing exactly one face.",
                    },
                };

                foreach (var name in ListFields)
                {
                    // SubmissionReader.JsonStrings: one string, an array of strings, or null.
                    if (json.Properties?.TryGetValue(name, out var property) == true && property is OpenApiSchema list)
                    {
                        list.Type = JsonSchemaType.String | JsonSchemaType.Array | JsonSchemaType.Null;
                    }
                }

                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["multipart/form-data"] = new() { Schema = form },
                        ["application/json"] = new() { Schema = json },
                    },
                };
            })
            .AsJobSubmission();

        v1.MapGet("/jobs", ListAsync)
            .WithName("ListJobs")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The kinds the filter takes, as an enum (the handler reads the text itself to answer 400 naming the value).
                foreach (var parameter in operation.Parameters ?? [])
                {
                    if (parameter is OpenApiParameter { Name: "kind" } kindParameter && kindParameter.Schema is OpenApiSchema schema)
                    {
                        kindParameter.Description = "Only jobs of this kind: portrait (POST /v1/jobs) or idphoto (POST /v1/idphoto)";
                        schema.Enum = JobKinds.Select(k => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(k)).ToList();
                    }
                }

                return Task.CompletedTask;
            })
            .WithSummary("Jobs newest first (order=asc: oldest first), optionally only those in one state and of one kind (portrait or idphoto); limit per page (default 100, at most 10000); after=the previous page's next")
            .Produces<JobListView>()
            .ProducesValidationProblem();

        v1.MapGet("/jobs/{id}", GetAsync)
            .WithName("GetJob")
            .WithSummary("A job: state, steps with attempts, timings, box and error, output URLs, ETA")
            .Produces<JobView>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/jobs/{id}/events", EventsAsync)
            .WithName("JobEvents")
            .WithSummary("Server-sent events of a job until it is finished; honours Last-Event-ID")
            .Produces<EventView>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/jobs/{id}/outputs/{file}", OutputAsync)
            .WithName("GetJobOutput")
            .WithSummary("A file one of the job's steps wrote (only those the job lists)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapDelete("/jobs/{id}", DeleteAsync)
            .WithName("DeleteJob")
            .WithSummary("Cancel the job (interrupting its box) and delete every file of it")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/backends", BackendsAsync)
            .WithName("Backends")
            .WithTags("backends")
            .WithSummary("The WebUI boxes: health, loaded checkpoint, calls in flight; and the queue depth")
            .Produces<BackendsView>();

        app.MapGet("/healthz", HealthAsync)
            .WithName("Health")
            .WithTags("health")
            .WithSummary("Liveness: the job store answers (no API key needed)")
            .Produces(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, ServerState state, CancellationToken cancellationToken)
    {
        StagedSubmission? staged = null;
        try
        {
            var form = await new SubmissionReader(state.Options).ReadAsync(context.Request, cancellationToken);
            staged = SubmissionReader.Stage(form, state.Options.UploadDirectory, state.Options.TemplatesDirectory, state.Options.Runner.RecipeDirectory);
            var job = await state.Submitter.SubmitAsync(staged.Submission, cancellationToken);
            var view = JobViews.Job(job, await state.Eta.EstimateAsync(job, cancellationToken), context.Request.PathBase);
            state.Logger.LogInformation("Job {Job} queued ({Recipe})", job.Id, Miaoya.Limits.UserText.ForLog(view.Recipe));
            return Results.Accepted($"{context.Request.PathBase}/v1/jobs/{job.Id}", view);
        }
        catch (FieldProblemException e)
        {
            return Problems.Field(e.Status, e.Field, e.Message);
        }
        catch (JobSubmissionException e)
        {
            var message = e.Message;
            if (staged is not null)
            {
                message = staged.Scrub(message);
            }

            message = message.Replace(state.JobsDirectory, "(jobs)", StringComparison.Ordinal);
            return Problems.Field(StatusCodes.Status400BadRequest, e.Field, message);
        }
        finally
        {
            // The submitter has copied the photos into the job's folder (or refused them): the upload copies go now.
            staged?.Dispose();
        }
    }

    /// <summary>The kinds <c>GET /v1/jobs?kind=</c> takes: a recipe on a template (<c>POST /v1/jobs</c>) and an ID photo (<c>POST /v1/idphoto</c>).</summary>
    internal static readonly string[] JobKinds = [JobInputs.PortraitKind, Pipeline.IdPhotoRun.Kind];

    /// <summary>Jobs per page of <c>GET /v1/jobs</c> when <c>limit</c> is not given.</summary>
    internal const int DefaultPageSize = 100;

    private static async Task<IResult> ListAsync(
        HttpContext context,
        ServerState state,
        [FromQuery(Name = "state")] string? stateFilter,
        [FromQuery(Name = "limit")] string? limitText,
        [FromQuery(Name = "after")] string? afterText,
        [FromQuery(Name = "order")] string? orderText,
        [FromQuery(Name = "kind")] string? kind,
        CancellationToken cancellationToken)
    {
        // Read as text so that "?limit=abc" is a problem naming the field, not the binder's bare 400.
        var limit = DefaultPageSize;
        if (limitText is not null)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
            {
                return Problems.Field(StatusCodes.Status400BadRequest, "limit", $"'{Miaoya.Limits.UserText.Quote(limitText)}' is not a number; give 1 to {JobQuery.MaxLimit}.");
            }

            if (limit is < 1 or > JobQuery.MaxLimit)
            {
                return Problems.Field(StatusCodes.Status400BadRequest, "limit", $"must be between 1 and {JobQuery.MaxLimit}.");
            }
        }

        JobState? filter = null;
        if (stateFilter is not null)
        {
            if (!Enum.TryParse<JobState>(stateFilter, ignoreCase: true, out var parsed) || int.TryParse(stateFilter, out _))
            {
                return Problems.Field(StatusCodes.Status400BadRequest, "state", $"'{Miaoya.Limits.UserText.Quote(stateFilter)}' is not a job state; use queued, running, succeeded, failed or cancelled.");
            }

            filter = parsed;
        }

        if (kind is not null && !JobKinds.Contains(kind, StringComparer.Ordinal))
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "kind", $"'{Miaoya.Limits.UserText.Quote(kind)}' is not a job kind; use {string.Join(" or ", JobKinds)}.");
        }

        JobOrder? order = orderText?.ToLowerInvariant() switch
        {
            null or "desc" => JobOrder.NewestFirst,
            "asc" => JobOrder.OldestFirst,
            _ => null,
        };
        if (order is null)
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "order", $"'{Miaoya.Limits.UserText.Quote(orderText)}' is not an order; use desc (newest first, the default) or asc (oldest first).");
        }

        long? after = null;
        if (afterText is not null)
        {
            // The cursor is the "next" of a previous page: the store's position of its last job (opaque to clients).
            if (!long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out var position) || position < 1)
            {
                return Problems.Field(StatusCodes.Status400BadRequest, "after", $"'{Miaoya.Limits.UserText.Quote(afterText)}' is not a cursor; pass the \"next\" of the previous page as it is.");
            }

            after = position;
        }

        var page = await state.Store.ListJobsPageAsync(new JobQuery { State = filter, Limit = limit, After = after, Order = order.Value, Kind = kind, KindWhenUnnamed = JobInputs.PortraitKind }, cancellationToken);
        var views = new List<JobView>(page.Jobs.Count);
        foreach (var job in page.Jobs)
        {
            views.Add(JobViews.Job(job, await state.Eta.EstimateAsync(job, cancellationToken), context.Request.PathBase));
        }

        string? next = null;
        if (page.Next is { } nextPosition)
        {
            next = nextPosition.ToString(CultureInfo.InvariantCulture);
            var query = new List<string>();
            if (filter is { } f)
            {
                query.Add("state=" + f.ToString().ToLowerInvariant());
            }

            if (kind is not null)
            {
                query.Add("kind=" + kind);
            }

            if (order == JobOrder.OldestFirst)
            {
                query.Add("order=asc");
            }

            query.Add("limit=" + limit.ToString(CultureInfo.InvariantCulture));
            query.Add("after=" + next);
            // RFC 8288 web linking: the next page, as GitHub's API gives it.
            context.Response.Headers.Link = $"<{context.Request.PathBase}/v1/jobs?{string.Join('&', query)}>; rel=\"next\"";
        }

        return Results.Ok(new JobListView(views, next));
    }

    private static async Task<IResult> GetAsync(HttpContext context, ServerState state, string id, CancellationToken cancellationToken)
    {
        var job = await state.Store.GetJobAsync(id, cancellationToken);
        return job is null
            ? NotFound(id)
            : Results.Ok(JobViews.Job(job, await state.Eta.EstimateAsync(job, cancellationToken), context.Request.PathBase));
    }

    private static async Task EventsAsync(HttpContext context, ServerState state, string id, IHostApplicationLifetime lifetime, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var job = await state.Store.GetJobAsync(id, context.RequestAborted);
        if (job is null)
        {
            await NotFound(id).ExecuteAsync(context);
            return;
        }

        var lastId = context.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? context.Request.Query["last_event_id"].FirstOrDefault();
        long after = 0;
        if (lastId is not null && (!long.TryParse(lastId, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
        {
            await Problems.Field(StatusCodes.Status400BadRequest, "Last-Event-ID", $"'{Miaoya.Limits.UserText.Quote(lastId)}' is not an event id (the sequence number of an event).").ExecuteAsync(context);
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(stop.Token);
        var quietSince = state.Time.GetUtcNow();
        try
        {
            // Retry hint for EventSource clients, then the events in order; the id is the store's sequence number.
            await response.WriteAsync("retry: 2000\n\n", stop.Token);
            while (true)
            {
                job = await state.Store.GetJobAsync(id, stop.Token);
                if (job is null)
                {
                    await response.WriteAsync($"event: job_deleted\ndata: {{\"id\":\"{id}\"}}\n\n", stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    return;
                }

                var events = await state.Store.ReadEventsAsync(id, after, EventBatch, stop.Token);
                if (events.Count > 0)
                {
                    var eta = await state.Eta.EstimateAsync(job, stop.Token);
                    var text = new StringBuilder();
                    var last = events[^1].Sequence;
                    foreach (var e in WithoutLateProgress(job, events))
                    {
                        var data = JsonSerializer.Serialize(JobViews.Event(e, job.State, eta), json.Value.SerializerOptions);
                        text.Append(CultureInfo.InvariantCulture, $"id: {e.Sequence}\nevent: {JobViews.EventName(e.Kind)}\ndata: {data}\n\n");
                    }

                    after = last;
                    if (text.Length > 0)
                    {
                        await response.WriteAsync(text.ToString(), stop.Token);
                        await response.Body.FlushAsync(stop.Token);
                        quietSince = state.Time.GetUtcNow();
                    }
                }

                // The job was read before its events: a finished job's last events are in this batch.
                if (job.IsFinished && events.Count < EventBatch)
                {
                    return;
                }

                if (state.Time.GetUtcNow() - quietSince > KeepAlive)
                {
                    await response.WriteAsync(": keep-alive\n\n", stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    quietSince = state.Time.GetUtcNow();
                }

                if (events.Count < EventBatch)
                {
                    await Task.Delay(state.Options.Runner.PollInterval, state.Time, stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client went away or the server stops; the client resumes with Last-Event-ID.
        }
    }

    /// <summary>
    /// A finished job's events without the progress reports that reached the store after its last event (a step's
    /// progress is recorded asynchronously and may land after the step finished): the stream ends with the job's outcome.
    /// </summary>
    private static IEnumerable<JobEvent> WithoutLateProgress(JobRecord job, IReadOnlyList<JobEvent> events)
    {
        if (!job.IsFinished)
        {
            return events;
        }

        var terminal = -1;
        for (var i = events.Count - 1; i >= 0 && terminal < 0; i--)
        {
            if (events[i].Kind is JobEventKind.JobSucceeded or JobEventKind.JobFailed or JobEventKind.JobCancelled)
            {
                terminal = i;
            }
        }

        // No outcome in this batch: it was sent before (the batch is the tail), or it is still to come (a full batch).
        if (terminal < 0)
        {
            return events.Count < EventBatch ? events.Where(e => e.Kind != JobEventKind.StepProgress) : events;
        }

        return events.Where((e, i) => i <= terminal || e.Kind != JobEventKind.StepProgress);
    }

    private static async Task<IResult> OutputAsync(ServerState state, string id, string file, CancellationToken cancellationToken)
    {
        var job = await state.Store.GetJobAsync(id, cancellationToken);
        if (job is null)
        {
            return NotFound(id);
        }

        // Only files the job's steps list are served (an allow-list: no path from the request reaches the disk otherwise).
        var listed = job.Steps.SelectMany(s => s.Outputs).Any(o => string.Equals(o.File, file, StringComparison.Ordinal));
        var folder = Path.GetFullPath(job.OutputFolder);
        var path = Path.GetFullPath(Path.Combine(folder, file));
        if (!listed || !state.IsInsideJobs(folder) || !path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
        {
            return Problems.Result(StatusCodes.Status404NotFound, "Not found", $"job {id} has no output named '{file}'.");
        }

        if (!ContentTypes.TryGetContentType(path, out var contentType))
        {
            contentType = "application/octet-stream";
        }

        return Results.File(path, contentType, enableRangeProcessing: true);
    }

    /// <summary>How long a DELETE waits for this instance's running step of the job to stop.</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    private static async Task<IResult> DeleteAsync(ServerState state, string id, CancellationToken cancellationToken)
    {
        var before = await state.Store.GetJobAsync(id, cancellationToken);
        if (before is null)
        {
            return NotFound(id);
        }

        // 1. Cancel: no step of it starts again, and a step running elsewhere learns it at its next ownership check.
        await state.Store.CancelJobAsync(id, "deleted", CancellationToken.None);

        // 2. Stop the box rendering for it (the call that was running when the job was cancelled).
        var running = before.Steps.FirstOrDefault(s => s.State == StepState.Running && s.Box is not null);
        if (running is not null && state.Fleet is { } fleet)
        {
            var interrupted = await fleet.InterruptAsync(running.Box!, CancellationToken.None);
            state.Logger.LogInformation("Job {Job}: interrupt of {Box} for step {Step}: {Result}", id, running.Box, running.Name, interrupted ? "sent" : "failed");
        }

        // 3. Stop its running step (here, and through Quartz's interrupt on any other instance) and wait for this
        //    process's to end, so nothing here writes into the folder afterwards.
        if (state.Worker is { } engine)
        {
            using var wait = new CancellationTokenSource(StopWait);
            try
            {
                await engine.StopJobAsync(id, wait.Token);
            }
            catch (OperationCanceledException) when (wait.IsCancellationRequested)
            {
                state.Logger.LogWarning("Job {Job}: its step did not stop within {Wait}; deleting anyway", id, StopWait);
            }
        }

        // 4. The records, then every file.
        var deleted = await state.Store.DeleteJobAsync(id, CancellationToken.None);
        state.Eta.Forget(id);
        var folder = deleted?.OutputFolder ?? before.OutputFolder;
        await state.DeleteFolderAsync(folder, CancellationToken.None);
        var elsewhere = running is not null && state.Worker?.IsOwnWorker(running.Worker) != true;
        if (elsewhere)
        {
            // A step of another instance may write its manifest once more before its next check says the job is gone.
            state.DeleteFolderLater(folder, (2 * state.Options.Runner.OwnershipCheckInterval) + TimeSpan.FromSeconds(5));
        }

        state.Logger.LogInformation("Job {Job} deleted with its files", id);
        return Results.NoContent();
    }

    private static async Task<BackendsView> BackendsAsync(ServerState state, CancellationToken cancellationToken)
    {
        var boxes = state.Fleet?.Status().Select(JobViews.Box).ToArray() ?? [];
        // Two COUNT(*)s on jobs_state: no job row is read.
        var queued = await state.Store.CountJobsAsync(JobState.Queued, cancellationToken);
        var running = await state.Store.CountJobsAsync(JobState.Running, cancellationToken);
        return new BackendsView(boxes, new QueueView(Clamp(queued), Clamp(running), state.Worker?.Running ?? 0, state.Fleet?.QueueDepth ?? 0));

        static int Clamp(long count) => (int)Math.Min(count, int.MaxValue);
    }

    private static async Task<IResult> HealthAsync(ServerState state, CancellationToken cancellationToken)
    {
        try
        {
            await state.Store.ListJobsAsync(JobState.Queued, 1, cancellationToken);
            return Results.Ok(new { status = "ok" });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Job store unavailable", e.Message);
        }
    }

    private static IResult NotFound(string id) => Problems.Result(StatusCodes.Status404NotFound, "Not found", $"no job {id}.");

    /// <summary>What every submission route answers: 202 with the queued job, 400/413/415/503 problems; rate-limited as submissions.</summary>
    internal static RouteHandlerBuilder AsJobSubmission(this RouteHandlerBuilder route) => route
        .RequireRateLimiting(MiaoyaServer.SubmissionLimiter)
        .Produces<JobView>(StatusCodes.Status202Accepted)
        .ProducesValidationProblem()
        .ProducesValidationProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesValidationProblem(StatusCodes.Status503ServiceUnavailable);
}
