namespace Miaoya.MockWebUi;

/// <summary>
/// The mock's one random source, seeded by <see cref="MockWebUiOptions.Seed"/>: fault rates, the fail rate and random
/// seeds all draw from it, in the order the requests ask, so a seeded mock repeats itself.
/// </summary>
internal sealed class MockRandom(int? seed)
{
    private readonly Lock _gate = new();
    private readonly Random _random = seed is { } s ? new Random(s) : new Random();

    public double NextDouble()
    {
        lock (_gate)
        {
            return _random.NextDouble();
        }
    }
}
