namespace Miaoya.Jobs.Tests;

/// <summary>The tests' stand-in for the engine's firings (claims are gone: an engine starts a step it has a trigger for).</summary>
internal static class StepStarting
{
    /// <summary>
    /// Starts, for <paramref name="worker"/>, the first job's (creation order) first unfinished step that can start: each of
    /// <see cref="IJobStore.ListDueStepsAsync"/>'s tickets is tried with <see cref="IJobStore.StartStepAsync"/> in turn, as
    /// one firing each. Null when none starts (everything runs elsewhere, waits for an earlier step, or is finished).
    /// </summary>
    public static async Task<StepLease?> StartNextAsync(this IJobStore store, string worker, bool takeOver = false, CancellationToken cancellationToken = default)
    {
        foreach (var ticket in await store.ListDueStepsAsync(cancellationToken: cancellationToken))
        {
            if (await store.StartStepAsync(ticket.JobId, ticket.StepIndex, worker, takeOver, cancellationToken) is { } lease)
            {
                return lease;
            }
        }

        return null;
    }
}
