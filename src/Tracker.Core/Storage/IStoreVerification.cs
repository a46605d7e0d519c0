namespace Tracker.Core.Storage;

/// <summary>
/// A store that reads back everything it holds, to find damage that its check at open cannot: what a store whose file
/// has no page checksums offers (LiteDB). Once it has found damage, the store refuses every write, so that nothing is
/// written into a damaged file; reads go on where they can.
/// </summary>
public interface IStoreVerification
{
    /// <summary>What a verification found wrong, or <c>null</c> while nothing is known to be damaged.</summary>
    StoreDamagedException? Damage { get; }

    /// <summary>Reads every record; returns how many there are.</summary>
    /// <exception cref="StoreDamagedException">A record does not read back; the message says where and why.</exception>
    Task<long> VerifyAsync(CancellationToken cancellationToken = default);
}
