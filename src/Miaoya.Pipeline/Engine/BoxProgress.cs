using Microsoft.Extensions.Logging;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>While a generation call runs, the box's own progress (<c>GET /sdapi/v1/progress</c>) is read and reported.</summary>
internal static class BoxProgress
{
    public static async Task<T> WhileAsync<T>(RunContext run, string step, WebUiClient client, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        if (run.Progress is not { } progress)
        {
            return await call();
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var polling = PollAsync(run.Services, step, client, progress, stop.Token);
        try
        {
            return await call();
        }
        finally
        {
            await stop.CancelAsync();
            await polling;
        }
    }

    private static async Task PollAsync(PipelineServices services, string step, WebUiClient client, IProgress<PipelineProgress> progress, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(services.ProgressInterval, services.Time, cancellationToken);
                var state = await client.GetProgressAsync(skipCurrentImage: true, cancellationToken);
                if (state.State?.JobCount > 0)
                {
                    progress.Report(new PipelineProgress(step, state.Progress, state.EtaRelative > 0 ? TimeSpan.FromSeconds(state.EtaRelative) : null));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The call finished (or the run was cancelled).
        }
        catch (WebUiException e)
        {
            services.Logger.LogDebug("Progress of {Step} unavailable: {Error}", step, e.Message);
        }
    }
}
