namespace Miaoya.Runner;

/// <summary>Where jobs live and how a worker runs them.</summary>
public sealed record JobRunnerOptions
{
    /// <summary>Each job gets a folder <c>&lt;JobsDirectory&gt;/&lt;job id&gt;</c> holding its inputs, outputs and manifest.</summary>
    public required string JobsDirectory { get; init; }

    /// <summary>Recipe files that submissions may name (besides the built-in recipes); null: built-in only.</summary>
    public string? RecipeDirectory { get; init; }

    /// <summary>Also accept a recipe given as a file path (the CLI's batch does; the HTTP service must not).</summary>
    public bool AllowRecipePaths { get; init; }

    /// <summary>V3: insightface model folder, execution device and whether the tiny stand-in models are used.</summary>
    public string? ModelsDirectory { get; init; }

    public string Device { get; init; } = "cpu";

    public bool StandInModels { get; init; }

    /// <summary>
    /// Steps run at once by one worker. Remote calls wait in the boxes' queue, local steps (masks, face swap) run beside
    /// them, so a few more than the number of boxes keeps every box busy.
    /// </summary>
    public int Slots { get; init; } = 8;

    /// <summary>How often a running step checks that it is still its own (cancelled, deleted or recovered elsewhere: it stops).</summary>
    public TimeSpan OwnershipCheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often this instance places waiting steps on boxes when nothing here asks for it sooner (a step scheduled or
    /// finished here does): how soon it sees a slot another instance freed.
    /// </summary>
    public TimeSpan PlacementInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an event stream (<c>GET /v1/jobs/{id}/events</c>) looks for new events.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Least time between two progress events of one step.</summary>
    public TimeSpan ProgressEventInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>This instance's name in the cluster and in step records; default host:pid:random.</summary>
    public string? WorkerName { get; init; }
}
