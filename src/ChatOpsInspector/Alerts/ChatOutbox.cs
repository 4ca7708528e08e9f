using System.Text.Json;
using System.Text.Json.Serialization;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// Durable queue of chat messages that are not the card itself: thread notes (patch progress,
/// reminders, escalations), approval requests and digests. Sent by <see cref="AlertDispatcher"/>.
/// </summary>
internal sealed class ChatOutbox(IWorkQueue queue, IKeyValueStore values, TimeProvider time)
{
    /// <summary>Queues a note in the group's card thread on every platform the group is posted to.</summary>
    public Task EnqueueThreadNoteAsync(string groupId, ChatNote note, CancellationToken cancellationToken, string? dedupKey = null) =>
        EnqueueAsync(new OutboxMessage { GroupId = groupId, Text = note.Text, Mentions = note.Mentions, Names = note.Names, Broadcast = note.Broadcast }, dedupKey, cancellationToken);

    /// <summary>Queues a message to a channel of one platform (digests, notices without a card).</summary>
    public Task EnqueueChannelMessageAsync(string platform, string channel, ChatNote note, CancellationToken cancellationToken, string? dedupKey = null) =>
        EnqueueAsync(new OutboxMessage { Platform = platform, Channel = channel, Text = note.Text, Mentions = note.Mentions, Names = note.Names }, dedupKey, cancellationToken);

    /// <summary>
    /// Queues a direct message to one person on one platform (the assignee told of an assignment).
    /// <paramref name="groupId"/> names the group whose channel a platform may need to open the chat from.
    /// </summary>
    public Task EnqueueDirectMessageAsync(string platform, string userId, string? groupId, ChatNote note, CancellationToken cancellationToken, string? dedupKey = null) =>
        EnqueueAsync(new OutboxMessage { Platform = platform, DirectTo = userId, GroupId = groupId, Text = note.Text, Names = note.Names }, dedupKey, cancellationToken);

    /// <summary>
    /// <paramref name="dedupKey"/> makes the message idempotent: enqueuing the same key twice sends once
    /// (a reminder fired by two replicas, a retried request).
    /// </summary>
    private async Task EnqueueAsync(OutboxMessage message, string? dedupKey, CancellationToken cancellationToken)
    {
        // Replacing a queued item would re-send one that is being sent right now, so a key is claimed once.
        if (dedupKey is not null && !await values.TrySetIfAbsentAsync("outbox-key:" + dedupKey, "1", DedupMemory, cancellationToken))
        {
            return;
        }
        await queue.EnqueueAsync(
            Queues.Outbox,
            dedupKey ?? Guid.NewGuid().ToString("n"),
            JsonSerializer.Serialize(message with { CreatedAt = time.GetUtcNow() }, OutboxJson.Default.OutboxMessage),
            time.GetUtcNow(),
            cancellationToken);
    }

    /// <summary>How long a dedup key is remembered: longer than any retry or replica race that could repeat it.</summary>
    private static readonly TimeSpan DedupMemory = TimeSpan.FromDays(7);
}

internal sealed record OutboxMessage
{
    public string? GroupId { get; init; }
    public string? Platform { get; init; }
    public string? Channel { get; init; }
    public required string Text { get; init; }
    public IReadOnlyList<string>? Mentions { get; init; }
    public IReadOnlyDictionary<string, string>? Names { get; init; }
    public bool Broadcast { get; init; }

    /// <summary>A person's user id on <see cref="Platform"/>: the message goes to them directly, not to a channel.</summary>
    public string? DirectTo { get; init; }

    /// <summary>When it was queued; a thread note waits a while for its card (absent in messages queued by older versions).</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Platforms this message already reached, so a retry for one platform does not repeat the other.</summary>
    public IReadOnlyList<string> Delivered { get; init; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OutboxMessage))]
internal sealed partial class OutboxJson : JsonSerializerContext;
