namespace Miaoya.WebUi;

/// <summary>
/// Where WebUI calls run: one box (<see cref="SingleWebUiBox"/>) or a fleet that picks a box per call. The pipeline asks
/// for a box once per remote call (tagger, generation, rembg), so two calls of one job may run on different boxes.
/// </summary>
public interface IWebUiBoxes
{
    /// <summary>
    /// Runs <paramref name="work"/> on a box that meets <paramref name="needs"/> and returns its result. An implementation
    /// with several boxes waits while none can take the call, and runs it again on another box when the one it ran on
    /// failed in a way that says nothing about the request (connection refused or dropped, timeout, 5xx).
    /// Throws <see cref="WebUiBoxesException"/> when no box could ever run it (every box lacks something the call needs).
    /// </summary>
    Task<T> RunAsync<T>(BoxNeeds needs, Func<WebUiBox, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default);
}

/// <summary>What one call needs from a box.</summary>
public sealed record BoxNeeds
{
    /// <summary>What the call is for, in logs and errors: the pipeline step (<c>interrogate</c>, <c>inpaint</c>, ...).</summary>
    public required string Purpose { get; init; }

    /// <summary>
    /// The checkpoint the call renders with (a recipe's <c>base_model</c>); a box that already has it loaded is preferred,
    /// so it need not switch models. Null for calls that do not render (tagger, rembg).
    /// </summary>
    public string? Checkpoint { get; init; }

    /// <summary>
    /// The call occupies the box (one at a time per box, A1111's queue lock): generation, and the WD14 tagger's interrogate,
    /// which runs under the same lock; probes and preflight do not.
    /// </summary>
    public bool IsGeneration { get; init; } = true;

    /// <summary>What the box lacks for this call (empty: it can run it); null: any box will do.</summary>
    public Func<WebUiCapabilities, IReadOnlyList<BoxProblem>>? Check { get; init; }

    /// <summary>
    /// The one box the call may run on (a job step placed on it across instances, whose slot is booked there); null: any.
    /// An implementation fails the call with <see cref="WebUiBoxUnavailableException"/> while that box takes no calls
    /// (quarantined), so the step is placed again rather than waiting for it.
    /// </summary>
    public string? Box { get; init; }
}

/// <summary>The box a call was placed on (<see cref="BoxNeeds.Box"/>) takes no calls now: a box's fault, worth trying again elsewhere.</summary>
public sealed class WebUiBoxUnavailableException(string box, string purpose, string reason)
    : Exception($"{purpose} was placed on box {box}, which takes no calls now ({reason}); it will be placed again.")
{
    /// <summary>The box the call was placed on.</summary>
    public string Box { get; } = box;
}

/// <summary>Something a box lacks for a call: the field (recipe field or run input) that asks for it, and what is wrong.</summary>
/// <param name="Field">Where it is asked for: a recipe field such as <c>inpaint.controlnet.softedge.model</c>, or a run input such as <c>--lora</c>.</param>
/// <param name="Message">What the box lacks and how to fix it.</param>
/// <param name="IsInput">True when a run's input asks for it (the person's LoRA) rather than the recipe: the input may be wrong, not the box.</param>
public sealed record BoxProblem(string Field, string Message, bool IsInput = false)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// The box a call runs on: its name (as configured, or its URL), client and probed capabilities. A call that rendered
/// says with which checkpoint through <see cref="Rendered"/> (a fleet keeps track of what each box has loaded).
/// </summary>
public sealed class WebUiBox(string name, WebUiClient client, WebUiCapabilities capabilities, Action<string>? rendered = null)
{
    public string Name { get; } = name;

    public WebUiClient Client { get; } = client;

    public WebUiCapabilities Capabilities { get; } = capabilities;

    /// <summary>
    /// Reports what a generation answer says rendered it (<c>info.sd_model_name</c>, A1111 processing.py's infotext): the
    /// box now has that checkpoint loaded, whatever the request asked for.
    /// </summary>
    public void Rendered(Dto.GenerationResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Info?.SdModelName is { Length: > 0 } model)
        {
            rendered?.Invoke(model);
        }
    }
}

/// <summary>No box can run a call: each one lacks something it needs (listed per box).</summary>
public sealed class WebUiBoxesException : Exception
{
    public WebUiBoxesException(string purpose, IReadOnlyDictionary<string, IReadOnlyList<BoxProblem>> problems)
        : base(Describe(purpose, problems))
    {
        Purpose = purpose;
        Problems = problems;
    }

    /// <summary>The call (pipeline step) that could not be placed.</summary>
    public string Purpose { get; }

    /// <summary>Per box name, what it lacks.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BoxProblem>> Problems { get; }

    /// <summary>True when some box lacks only what a run's input asks for (the person's LoRA): the input is likely wrong.</summary>
    public bool InputOnly => Problems.Values.Any(list => list.Count > 0 && list.All(p => p.IsInput));

    private static string Describe(string purpose, IReadOnlyDictionary<string, IReadOnlyList<BoxProblem>> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (problems.Count == 1)
        {
            var (box, list) = problems.First();
            return $"{box} cannot run {purpose}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", list)}";
        }

        return $"no box can run {purpose}:" + string.Concat(problems.Select(p =>
            $"{Environment.NewLine}  {p.Key}:{Environment.NewLine}    - {string.Join(Environment.NewLine + "    - ", p.Value)}"));
    }
}

/// <summary>
/// One box for every call: the capabilities are probed once (per <see cref="WebUiOptions.CapabilitiesLifetime"/>), a
/// failed call is not moved anywhere (the client's own retries apply), and a box that lacks something fails the call.
/// </summary>
public sealed class SingleWebUiBox : IWebUiBoxes
{
    private readonly WebUiClient _client;

    public SingleWebUiBox(WebUiClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <summary>The box's base URL, as its calls are recorded (<see cref="WebUiBox.Name"/>).</summary>
    public string Url => _client.Endpoint.BaseUrl.ToString();

    /// <inheritdoc />
    public async Task<T> RunAsync<T>(BoxNeeds needs, Func<WebUiBox, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(needs);
        ArgumentNullException.ThrowIfNull(work);
        var capabilities = await _client.GetCapabilitiesAsync(cancellationToken);
        var name = Url;
        if (needs.Check?.Invoke(capabilities) is { Count: > 0 } problems)
        {
            throw new WebUiBoxesException(needs.Purpose, new Dictionary<string, IReadOnlyList<BoxProblem>> { [name] = problems });
        }

        return await work(new WebUiBox(name, _client, capabilities), cancellationToken);
    }
}
