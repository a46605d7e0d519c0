namespace Tracker.Abstractions;

/// <summary>Deterministic seed derivation for strategies and trainers.</summary>
public static class Seeds
{
    /// <summary>
    /// Derives an independent seed for stream <paramref name="stream"/> (e.g. a trial number) from
    /// <paramref name="seed"/> with the SplitMix64 finaliser. Guarantee: the same inputs give the same result in every
    /// process and on every platform, unlike <see cref="HashCode"/>, which is randomised per process.
    /// </summary>
    public static int Derive(int seed, int stream)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)stream) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return unchecked((int)(z ^ (z >> 31)));
    }
}
