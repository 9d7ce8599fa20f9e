using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>The loaded checkpoint, model switches, and a box going down and coming back (the state is <see cref="MockState"/>).</summary>
public sealed partial class MockWebUiServer
{
    /// <summary>Title of the checkpoint the mock has loaded (what renders), which <c>GET /options</c> may not name.</summary>
    public string LoadedCheckpoint => _state.LoadedCheckpoint;

    /// <summary>How many times a different checkpoint was loaded (per request, by a switch back, or by <c>POST /options</c>).</summary>
    public int ModelSwitches => _state.ModelSwitches;

    /// <summary>True while a generation-type call runs (what <c>GET /sdapi/v1/progress</c> reports as <c>job_count</c> 1).</summary>
    public bool JobRunning => _jobs.Running;

    /// <summary>True between <see cref="GoDown"/> and <see cref="ComeBack"/>.</summary>
    public bool IsDown => _state.IsDown;

    /// <summary>
    /// The box dies: from now on every connection is closed without an answer, including the calls in flight (their
    /// render stops and the connection drops mid-call), until <see cref="ComeBack"/>.
    /// </summary>
    public void GoDown()
    {
        _state.GoDown();
        _jobs.StopRender(); // ends the render in flight early; not an interrupt request (InterruptCount stays)
    }

    /// <summary>The box answers again (as after a restart the models and options are kept: the mock has no disk).</summary>
    public void ComeBack() => _state.ComeBack();

    /// <summary>Generation-type calls (<c>txt2img</c>, <c>img2img</c>, <c>interrogate</c>, <c>detect</c>, <c>rembg</c>) that ran to the end.</summary>
    public int CompletedJobs(string name) => _jobs.Completed(name);

    /// <summary>
    /// Runs a txt2img/img2img request as A1111's <c>process_images</c> does with its checkpoint (see <see cref="MockState"/>):
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
        CheckpointLoad? load = null;
        return _jobs.RunAsync(
            route,
            prepared.Steps,
            () => Generate(rendered),
            before: async () =>
            {
                load = _state.LoadForRender(requested);
                rendered = prepared with { Model = load.Loaded };
                if (load.Switched && _options.ModelSwitchLatency > TimeSpan.Zero)
                {
                    await Task.Delay(_options.ModelSwitchLatency);
                }
            },
            after: () =>
            {
                if (requested is null || !restore || load is null)
                {
                    return;
                }

                _state.RestoreCheckpointOption(load);
            });
    }
}
