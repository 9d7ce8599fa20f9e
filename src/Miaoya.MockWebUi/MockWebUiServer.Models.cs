using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The loaded checkpoint, model switches, and a box going down and coming back. A1111 v1.10.1 keeps one model loaded
/// (<c>shared.sd_model</c>) apart from the <c>sd_model_checkpoint</c> option, and the two can disagree:
/// <list type="bullet">
/// <item><c>process_images</c> (modules/processing.py): a request without a known <c>override_settings.sd_model_checkpoint</c>
/// calls <c>reload_model_weights()</c>, which loads the checkpoint the option names; a known one is set with
/// <c>opts.set(..., run_callbacks=False)</c> and loaded with <c>reload_model_weights()</c>. Both are no-ops when that
/// checkpoint is already loaded (modules/sd_models.py <c>reload_model_weights</c>: same filename → return).</item>
/// <item>Afterwards, when <c>override_settings_restore_afterwards</c> is true (the default), the option is set back with
/// <c>setattr(opts, k, v)</c>, which runs no callback: the override's model stays loaded while <c>GET /options</c> names the
/// old one, and the next request that does not name a checkpoint loads the old one again (the switch back).</item>
/// <item><c>POST /options</c> with <c>sd_model_checkpoint</c> runs the option's onchange callback: the model loads at once.</item>
/// </list>
/// </summary>
public sealed partial class MockWebUiServer
{
    private CheckpointInfo? _loadedCheckpoint;
    private int _modelSwitches;
    private volatile bool _down;
    private int _downEpoch;
    private readonly Dictionary<string, int> _completedJobs = new(StringComparer.Ordinal);

    /// <summary>Title of the checkpoint the mock has loaded (what renders), which <c>GET /options</c> may not name.</summary>
    public string LoadedCheckpoint
    {
        get
        {
            lock (_gate)
            {
                return Loaded().Title;
            }
        }
    }

    /// <summary>How many times a different checkpoint was loaded (per request, by a switch back, or by <c>POST /options</c>).</summary>
    public int ModelSwitches => Volatile.Read(ref _modelSwitches);

    /// <summary>True while a generation-type call runs (what <c>GET /sdapi/v1/progress</c> reports as <c>job_count</c> 1).</summary>
    public bool JobRunning
    {
        get
        {
            lock (_gate)
            {
                return _jobCount > 0;
            }
        }
    }

    /// <summary>True between <see cref="GoDown"/> and <see cref="ComeBack"/>.</summary>
    public bool IsDown => _down;

    /// <summary>
    /// The box dies: from now on every connection is closed without an answer, including the calls in flight (their
    /// render stops and the connection drops mid-call), until <see cref="ComeBack"/>.
    /// </summary>
    public void GoDown()
    {
        lock (_gate)
        {
            _down = true;
            _downEpoch++;
            _interruptSource?.Cancel(); // ends the render in flight early; not an interrupt request (InterruptCount stays)
        }
    }

    /// <summary>The box answers again (as after a restart the models and options are kept: the mock has no disk).</summary>
    public void ComeBack()
    {
        lock (_gate)
        {
            _down = false;
        }
    }

    /// <summary>Generation-type calls (<c>txt2img</c>, <c>img2img</c>, <c>interrogate</c>, <c>detect</c>, <c>rembg</c>) that ran to the end.</summary>
    public int CompletedJobs(string name)
    {
        lock (_gate)
        {
            return _completedJobs.GetValueOrDefault(name);
        }
    }

    private int DownEpoch()
    {
        lock (_gate)
        {
            return _downEpoch;
        }
    }

    private void CountCompleted(string name)
    {
        lock (_gate)
        {
            _completedJobs[name] = _completedJobs.GetValueOrDefault(name) + 1;
        }
    }

    /// <summary>The loaded model (at start, the one the options name). Call under <see cref="_gate"/>.</summary>
    private CheckpointInfo Loaded() => _loadedCheckpoint ??= CheckpointOptionLocked();

    /// <summary>The checkpoint the <c>sd_model_checkpoint</c> option names. Call under <see cref="_gate"/>.</summary>
    private CheckpointInfo CheckpointOptionLocked() =>
        Catalog.FindCheckpoint(_optionValues.TryGetValue("sd_model_checkpoint", out var v) && PydanticFields.TryStr(v, out var s) ? s : null)
            ?? Catalog.Checkpoints[0];

    /// <summary>Loads <paramref name="target"/> if another model is loaded; true when that was a switch. Call under <see cref="_gate"/>.</summary>
    private bool LoadLocked(CheckpointInfo target)
    {
        if (Loaded() == target)
        {
            return false;
        }

        _loadedCheckpoint = target;
        _modelSwitches++;
        return true;
    }

    private void SetCheckpointOptionLocked(CheckpointInfo info)
    {
        _optionValues["sd_model_checkpoint"] = info.Title;
        _optionValues["sd_checkpoint_hash"] = info.Sha256;
    }

    /// <summary>
    /// Runs a txt2img/img2img request as A1111's <c>process_images</c> does with its checkpoint (see the type's summary):
    /// load, render with the loaded model, then restore the option or leave it.
    /// </summary>
    private Task<MockHttpResult> RunGenerationAsync(string route, PreparedGeneration prepared)
    {
        CheckpointInfo? requested = null;
        if (prepared.Fields["override_settings"] is JsonObject overrides && overrides["sd_model_checkpoint"] is { } o
            && PydanticFields.TryStr(o, out var id))
        {
            requested = Catalog.FindCheckpoint(id); // unknown → dropped, as processing.py does
        }

        var restore = prepared.Fields.GetBool("override_settings_restore_afterwards", true);
        var rendered = prepared;
        JsonNode? storedOption = null;
        JsonNode? storedHash = null;
        return RunJobAsync(
            route,
            prepared.Steps,
            () => Generate(rendered),
            before: async () =>
            {
                bool switched;
                lock (_gate)
                {
                    storedOption = _optionValues.GetValueOrDefault("sd_model_checkpoint")?.DeepClone();
                    storedHash = _optionValues.GetValueOrDefault("sd_checkpoint_hash")?.DeepClone();
                    if (requested is not null)
                    {
                        SetCheckpointOptionLocked(requested);
                        switched = LoadLocked(requested);
                    }
                    else
                    {
                        switched = LoadLocked(CheckpointOptionLocked());
                    }

                    rendered = prepared with { Model = Loaded() };
                }

                if (switched && _options.ModelSwitchLatency > TimeSpan.Zero)
                {
                    await Task.Delay(_options.ModelSwitchLatency);
                }
            },
            after: () =>
            {
                if (requested is null || !restore)
                {
                    return;
                }

                lock (_gate)
                {
                    // setattr(opts, k, v): the option goes back, the loaded model stays.
                    _optionValues["sd_model_checkpoint"] = storedOption;
                    _optionValues["sd_checkpoint_hash"] = storedHash;
                }
            });
    }
}
