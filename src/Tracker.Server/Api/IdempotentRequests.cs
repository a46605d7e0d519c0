namespace Tracker.Server.Api;

/// <summary>
/// Remembers the answers to recent writes sent with an <c>Idempotency-Key</c> header, so that a client retrying a
/// request whose answer it never received (a timeout after the server had already stored the batch) gets the first
/// answer again instead of logging the same points twice. Only successful answers are remembered: a failed request
/// may be retried for real. The memory is bounded (the most recent <see cref="Capacity"/> keys) and per process,
/// which covers a client's retries, seconds apart; it is not a durable log.
/// </summary>
public sealed class IdempotentRequests
{
    /// <summary>The request header that names a write; a client sends the same value on every attempt of one write.</summary>
    public const string Header = "Idempotency-Key";

    /// <summary>The answer header that says an answer is a replay of the first one.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The longest key accepted, in characters.</summary>
    public const int MaxKeyLength = 200;

    /// <summary>How many keys are remembered.</summary>
    public const int Capacity = 10_000;

    private readonly Lock gate = new();
    private readonly Dictionary<string, (Task<IResult> Answer, long Sequence)> answers = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long Sequence)> order = new();
    private long sequence;

    /// <summary>
    /// Runs <paramref name="write"/> for the first request with <paramref name="key"/> on <paramref name="scope"/> (a
    /// route and resource, e.g. a run's metrics), and answers later ones, including ones that arrive while the first is
    /// still running, with the first one's answer.
    /// </summary>
    public async Task<IResult> RunOnceAsync(string scope, string key, HttpResponse response, Func<Task<IResult>> write, Func<IResult, bool> succeeded)
    {
        string id = scope + "\n" + key;
        TaskCompletionSource<IResult>? mine = null;
        Task<IResult> answer;
        long mySequence = 0;
        lock (gate)
        {
            if (answers.TryGetValue(id, out var earlier))
                answer = earlier.Answer;
            else
            {
                mine = new TaskCompletionSource<IResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                answer = mine.Task;
                mySequence = ++sequence;
                answers[id] = (answer, mySequence);
                order.Enqueue((id, mySequence));
                while (order.Count > Capacity)
                {
                    var (oldId, oldSequence) = order.Dequeue();
                    if (answers.TryGetValue(oldId, out var old) && old.Sequence == oldSequence) answers.Remove(oldId);
                }
            }
        }

        if (mine is null)
        {
            response.Headers[ReplayedHeader] = "true";
            return await answer;
        }
        try
        {
            var result = await write();
            if (!succeeded(result)) Forget(id, mySequence);
            mine.SetResult(result);
            return result;
        }
        catch (Exception e)
        {
            Forget(id, mySequence);
            mine.SetException(e);
            throw;
        }
    }

    private void Forget(string id, long mySequence)
    {
        lock (gate)
        {
            if (answers.TryGetValue(id, out var entry) && entry.Sequence == mySequence) answers.Remove(id);
        }
    }
}
