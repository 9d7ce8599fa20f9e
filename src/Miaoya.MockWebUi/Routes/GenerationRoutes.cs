using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// <c>/sdapi/v1/txt2img</c> and <c>img2img</c> (validated by <see cref="GenerationRequest"/>, run on the
/// <see cref="JobQueue"/> with the checkpoint <see cref="MockState"/> loads, painted by <see cref="GenerationRenderer"/>),
/// and the queue's <c>progress</c>, <c>interrupt</c> and <c>skip</c>.
/// </summary>
internal sealed class GenerationRoutes(MockWebUiOptions options, MockState state, JobQueue jobs, GenerationRenderer renderer, ProfileTraits profile, ControlNetBox controlNet)
{
    public void AddTo(RouteTable routes)
    {
        routes.Post("/sdapi/v1/txt2img", request => GenerateAsync(request, "txt2img"));
        routes.Post("/sdapi/v1/img2img", request => GenerateAsync(request, "img2img"));
        routes.Get("/sdapi/v1/progress", _ => Task.FromResult(MockHttpResult.Json(jobs.Progress())));
        routes.Post("/sdapi/v1/interrupt", _ =>
        {
            jobs.Interrupt();
            return Task.FromResult(MockHttpResult.Json(new JsonObject())); // {} (A1111 api.py:649-652)
        });
        routes.Post("/sdapi/v1/skip", _ => Task.FromResult(MockHttpResult.Null())); // null (A1111 api.py:664-665)
    }

    private Task<MockHttpResult> GenerateAsync(MockRequest request, string route)
    {
        var prepared = profile.Family == ServerFamily.SdNext
            ? SdNextGeneration.Prepare(request.BodyObject(), img2img: route == "img2img")
            : GenerationRequest.Prepare(request.BodyObject(), img2img: route == "img2img", profile, controlNet);
        return RunAsync(route, prepared);
    }

    /// <summary>
    /// Runs a txt2img/img2img request as A1111's <c>process_images</c> does with its checkpoint (see <see cref="MockState"/>):
    /// load, render with the loaded model, then restore the option or leave it.
    /// </summary>
    private Task<MockHttpResult> RunAsync(string route, PreparedGeneration prepared)
    {
        CheckpointInfo? requested = null;
        if (prepared.Fields["override_settings"] is JsonObject overrides && overrides["sd_model_checkpoint"] is { } o
            && PydanticFields.TryStr(o, out var id))
        {
            requested = Catalog.FindCheckpoint(id); // unknown ids are silently dropped (processing.py:828-830)
        }

        var restore = prepared.Fields.GetBool("override_settings_restore_afterwards", true);
        CheckpointLoad? load = null;
        return jobs.RunAsync(
            route,
            prepared.Steps,
            () => renderer.Render(prepared, load!.Loaded),
            before: async () =>
            {
                load = state.LoadForRender(requested);
                if (load.Switched && options.ModelSwitchLatency > TimeSpan.Zero)
                {
                    await Task.Delay(options.ModelSwitchLatency);
                }
            },
            after: () =>
            {
                if (requested is not null && restore && load is not null)
                {
                    state.RestoreCheckpointOption(load); // setattr(opts, k, v): the option goes back, the loaded model stays
                }
            });
    }
}
