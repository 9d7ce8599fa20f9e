using System.Reflection;
using System.Runtime.ExceptionServices;
using Quartz;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// The <see cref="IScheduler"/> <see cref="StepSchedulerFactory"/> hands out: Quartz's own, forwarded call by call, plus
/// what this scheduler owns. <c>Start</c> and <c>StartDelayed</c> first take the SQLite single-runner guard (so a process
/// that only schedules never needs it, and a second runner fails before Quartz recovers anything); <c>Shutdown</c>, once
/// Quartz is down, releases the guard and disposes the database clock and Quartz's container.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy derives a type from it at run time
internal class OwnedScheduler : DispatchProxy
#pragma warning restore CA1852
{
    private IScheduler _inner = null!;
    private Func<IDisposable>? _acquireGuard;
    private IDisposable? _guard;
    private List<IAsyncDisposable> _owned = [];
    private readonly Lock _sync = new();

    public static IScheduler Wrap(IScheduler inner, Func<IDisposable>? acquireGuard, params IAsyncDisposable[] owned)
    {
        var proxy = Create<IScheduler, OwnedScheduler>();
        var self = (OwnedScheduler)(object)proxy;
        self._inner = inner;
        self._acquireGuard = acquireGuard;
        self._owned = [.. owned];
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.DeclaringType == typeof(IScheduler))
        {
            switch (targetMethod.Name)
            {
                case nameof(IScheduler.Start) or nameof(IScheduler.StartDelayed):
                    TakeGuard();
                    break;
                case nameof(IScheduler.Shutdown):
#pragma warning disable CA2012 // handed back (boxed) to the caller of Shutdown, who awaits it once
                    return ShutdownAsync(targetMethod, args);
#pragma warning restore CA2012
            }
        }

        return Forward(targetMethod, args);
    }

    private object? Forward(MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private void TakeGuard()
    {
        lock (_sync)
        {
            if (_acquireGuard is not null && _guard is null)
            {
                _guard = _acquireGuard();
            }
        }
    }

    private async ValueTask ShutdownAsync(MethodInfo shutdown, object?[]? args)
    {
        await ((ValueTask)Forward(shutdown, args)!).ConfigureAwait(false);
        IDisposable? guard;
        List<IAsyncDisposable> owned;
        lock (_sync)
        {
            (guard, _guard, _acquireGuard) = (_guard, null, null);
            (owned, _owned) = (_owned, []);
        }

        foreach (var resource in owned)
        {
            await resource.DisposeAsync().ConfigureAwait(false);
        }

        guard?.Dispose();
    }
}
