using System.Text.Json;
using System.Text.Json.Serialization;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Slack;

internal enum SlackJobKind
{
    /// <summary>A card button or modal submission: run the triage action, answer the clicker privately.</summary>
    Triage,

    /// <summary>A <c>/vulns</c> command finished after the 3-second answer, via its response_url.</summary>
    Command,

    /// <summary><c>@bot vulns …</c> in a channel: answered in the message's thread.</summary>
    Mention,

    /// <summary>A private notice to one person (a refusal, a dialog that could not open).</summary>
    Notice,
}

/// <summary>Slack work that leaves the request: stored durably so a restart does not lose a click.</summary>
internal sealed record SlackJob
{
    public required SlackJobKind Kind { get; init; }
    public required string UserId { get; init; }
    public string? UserName { get; init; }

    /// <summary>The Slack workspace (team id) the request came from; part of the actor's identity.</summary>
    public string? TeamId { get; init; }
    public string? ChannelId { get; init; }
    public string? ResponseUrl { get; init; }
    public string? ThreadTs { get; init; }

    public string? GroupId { get; init; }
    public string? Action { get; init; }
    public string? AssigneeId { get; init; }
    public string? Reason { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? PatchRequestId { get; init; }

    /// <summary>Command text for <see cref="SlackJobKind.Command"/> and <see cref="SlackJobKind.Mention"/>; the notice for <see cref="SlackJobKind.Notice"/>.</summary>
    public string? Text { get; init; }

    /// <summary>Set once a state change ran, so retrying a failed reply does not run it again.</summary>
    public string? Outcome { get; init; }
    public int Attempts { get; init; }

    /// <summary>What Slack's <c>Retry-After</c> asked for on the last failed attempt; the next one waits at least that long.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SlackJob))]
internal sealed partial class SlackJson : JsonSerializerContext;

/// <summary>The durable Slack work queue, with an in-process nudge so work starts without waiting for a poll.</summary>
internal sealed class SlackWorkQueue(IWorkQueue queue, TimeProvider time) : IDisposable
{
    public const string Name = "slack";

    private readonly SemaphoreSlim _nudge = new(0, int.MaxValue);

    public async Task EnqueueAsync(SlackJob job, CancellationToken cancellationToken, string? id = null, TimeSpan? delay = null)
    {
        await queue.EnqueueAsync(Name, id ?? Guid.NewGuid().ToString("n"), JsonSerializer.Serialize(job, SlackJson.Default.SlackJob),
            time.GetUtcNow() + (delay ?? TimeSpan.Zero), cancellationToken);
        if (delay is null)
        {
            _nudge.Release();
        }
    }

    public void Dispose() => _nudge.Dispose();

    /// <summary>Waits for a nudge or the poll interval, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        try
        {
            await _nudge.WaitAsync(pollInterval, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>Remembers handled Slack request ids so a retried delivery does no work twice.</summary>
internal sealed class SlackRetryGuard(IKeyValueStore values)
{
    public Task<bool> FirstTimeAsync(string requestId, TimeSpan memory, CancellationToken cancellationToken) =>
        values.TrySetIfAbsentAsync(Key(requestId), "1", memory, cancellationToken);

    /// <summary>Forgets a request whose work could not be queued, so Slack's retry of it is not dropped.</summary>
    public Task ForgetAsync(string requestId, CancellationToken cancellationToken) => values.DeleteAsync(Key(requestId), cancellationToken);

    private static string Key(string requestId) => $"slack:seen:{requestId}";
}
