using Tracker.Abstractions;

namespace Tracker.Plugins.Grid;

/// <summary>
/// A pseudo-random bijection of [0, <see cref="Count"/>) fixed by a seed, evaluated one index at a time in O(1)
/// memory: a balanced Feistel network over the smallest even power of two that covers the range, with cycle-walking
/// back into the range. Lets a shuffled grid of any size be visited without listing it.
/// </summary>
public sealed class SeededPermutation
{
    private const int Rounds = 6;
    private readonly ulong[] keys = new ulong[Rounds];
    private readonly int halfBits;
    private readonly ulong mask;

    /// <summary>Creates the permutation of [0, <paramref name="count"/>) for <paramref name="seed"/>.</summary>
    public SeededPermutation(long count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Count = count;
        int bits = 2;
        while (bits < 64 && (1UL << bits) < (ulong)count) bits += 2;
        halfBits = bits / 2;
        mask = (1UL << halfBits) - 1;
        for (int i = 0; i < Rounds; i++)
            keys[i] = (ulong)(uint)Seeds.Derive(seed, 2 * i) << 32 | (uint)Seeds.Derive(seed, 2 * i + 1);
    }

    /// <summary>The size of the permuted range.</summary>
    public long Count { get; }

    /// <summary>The image of <paramref name="index"/>; distinct indices give distinct images.</summary>
    public long this[long index]
    {
        get
        {
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"must be in [0, {Count}).");
            ulong x = (ulong)index;
            // Cycle-walking: x lies on a cycle of the bijection, so repeating it returns into the range; the domain
            // is less than four times the range, so this takes under four steps on average.
            do x = Encrypt(x);
            while (x >= (ulong)Count);
            return (long)x;
        }
    }

    private ulong Encrypt(ulong x)
    {
        ulong left = x >> halfBits, right = x & mask;
        for (int i = 0; i < Rounds; i++)
            (left, right) = (right, left ^ (Mix(right ^ keys[i]) & mask));
        return left << halfBits | right;
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
