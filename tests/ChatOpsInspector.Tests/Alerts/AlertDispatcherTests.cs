using System.Collections.Concurrent;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Sla;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Alerts;

/// <summary>The dispatcher against a recording chat platform: what gets posted, updated, retried, given up.</summary>
public sealed class AlertDispatcherTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private sealed class RecordingChat : IChatAdapter
    {
        public ConcurrentQueue<(string Op, string Channel, AlertCardView? Card, string? Text)> Calls { get; } = new();
        public ConcurrentQueue<(long At, string Channel)> Timeline { get; } = new();
        public Func<string, ChatResult?> Script { get; set; } = _ => null;
        private int _ts;

        public string Platform => "test";
        public string? ChannelFor(OwnerRoute route) => route.SlackChannel;

        public Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("post", channel, card, null));
            Timeline.Enqueue((Environment.TickCount64, channel));
            return Task.FromResult(Script("post") ?? ChatResult.Ok(new ChatMessageRef("test", channel, $"ts-{Interlocked.Increment(ref _ts)}")));
        }

        public Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("update", message.Channel, card, message.MessageId));
            Timeline.Enqueue((Environment.TickCount64, message.Channel));
            return Task.FromResult(Script("update") ?? ChatResult.Ok());
        }

        public Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("note", channel, null, note.Text));
            return Task.FromResult(Script("note") ?? ChatResult.Ok());
        }
    }

    /// <summary>Counts group reads: how often the dispatcher picks a group up.</summary>
    private sealed class CountingStore(IAlertStore inner) : IAlertStore
    {
        public ConcurrentDictionary<string, int> Reads { get; } = new();

        public Task<AlertGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken)
        {
            Reads.AddOrUpdate(groupId, 1, (_, n) => n + 1);
            return inner.GetGroupAsync(groupId, cancellationToken);
        }

        public Task<IngestOutcome> IngestAsync(IngestRecord record, CancellationToken cancellationToken) => inner.IngestAsync(record, cancellationToken);
        public Task<IReadOnlyList<string>> GroupIdsAsync(string owner, CancellationToken cancellationToken) => inner.GroupIdsAsync(owner, cancellationToken);
        public void RememberSummary(AlertGroup group) => inner.RememberSummary(group);
        public Task<IReadOnlyList<SavedSummary>> SavedSummariesAsync(string owner, CancellationToken cancellationToken) => inner.SavedSummariesAsync(owner, cancellationToken);
        public Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken) => inner.OwnersAsync(cancellationToken);
        public Task<bool> TryUpdateWorkflowAsync(string groupId, long expectedVersion, WorkflowState next, AuditRecord audit, CancellationToken cancellationToken) =>
            inner.TryUpdateWorkflowAsync(groupId, expectedVersion, next, audit, cancellationToken);
        public Task SetCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken) => inner.SetCardRefAsync(groupId, card, cancellationToken);
        public Task<string?> GroupOfFindingAsync(string findingArn, CancellationToken cancellationToken) => inner.GroupOfFindingAsync(findingArn, cancellationToken);
        public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
        public Task<IReadOnlyList<OwnerCounts>> CountsAsync(IReadOnlyCollection<string> owners, DateTimeOffset now, CancellationToken cancellationToken) =>
            inner.CountsAsync(owners, now, cancellationToken);
        public Task<IReadOnlyList<string>> DueGroupIdsAsync(IReadOnlyCollection<string> owners, DateTimeOffset until, int max, CancellationToken cancellationToken) =>
            inner.DueGroupIdsAsync(owners, until, max, cancellationToken);
        public Task<IReadOnlyList<ChangedGroup>> ChangedGroupsAsync(int max, CancellationToken cancellationToken) => inner.ChangedGroupsAsync(max, cancellationToken);
        public Task ForgetChangedAsync(IReadOnlyList<ChangedGroup> seen, CancellationToken cancellationToken) => inner.ForgetChangedAsync(seen, cancellationToken);
        public Task<IReadOnlyList<string>> GroupsOfVulnerabilityAsync(string vulnerabilityId, CancellationToken cancellationToken) =>
            inner.GroupsOfVulnerabilityAsync(vulnerabilityId, cancellationToken);
    }

    private (TestApp App, RecordingChat Chat) Start(Dictionary<string, string?>? more = null, Action<IServiceCollection>? services = null)
    {
        var chat = new RecordingChat();
        var settings = new Dictionary<string, string?> { ["Routing:Default:SlackChannel"] = "C0000000001" };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }
        return (new TestApp(TestApp.WithRedis(redis, settings), s =>
        {
            s.AddSingleton<IChatAdapter>(chat);
            services?.Invoke(s);
        }), chat);
    }

    [Fact]
    public async Task ACriticalFindingIsPostedOnceAndLaterChangesUpdateTheSameMessage()
    {
        var (app, chat) = Start();
        await using var _ = app;
        await app.PostEventsAsync(FindingEvents.Ec2("d-1", instanceId: "i-00000001").ToJsonString());
        await TestApp.Eventually(() => Task.FromResult(chat.Calls.Any(c => c.Op == "post")), "card posted");
        await app.PostEventsAsync(FindingEvents.Ec2("d-2", instanceId: "i-00000002").ToJsonString());
        await TestApp.Eventually(() => Task.FromResult(chat.Calls.Any(c => c.Op == "update" && c.Card!.ResourceCount == 2)), "card updated");
        Assert.Single(chat.Calls, c => c.Op == "post");
        Assert.All(chat.Calls.Where(c => c.Op == "update"), c => Assert.Equal("ts-1", c.Text));
        var groupId = Assert.Single(await app.Service<IAlertStore>().GroupIdsAsync("unrouted", default));
        Assert.Equal("ts-1", (await app.Service<IAlertStore>().GetGroupAsync(groupId, default))!.Cards["test"].MessageId);
    }

    [Fact]
    public async Task CardsQueuedForABusyChannelGoOnePerIntervalEachPickedUpOnlyWhenItsSlotComes()
    {
        CountingStore? counting = null;
        var (app, chat) = Start(
            new() { ["Dispatch:ChannelInterval"] = "00:00:00.200" },
            s => s.AddSingleton<IAlertStore>(sp => counting = new CountingStore(sp.GetRequiredService<RedisStore>())));
        await using var _ = app;
        const int cards = 8;
        var batch = new System.Text.Json.Nodes.JsonArray(Enumerable.Range(0, cards)
            .Select(i => (System.Text.Json.Nodes.JsonNode)FindingEvents.Ec2($"slot-{i}", cve: $"CVE-2026-{1000 + i}", instanceId: $"i-{i:x17}")).ToArray());
        await app.PostEventsAsync(batch.ToJsonString());

        await TestApp.Eventually(() => Task.FromResult(chat.Calls.Count(c => c.Op == "post") == cards), "every card posted");
        var times = chat.Timeline.Select(t => t.At).Order().ToArray();
        // At least an interval between calls (the timer's granularity allows a few ms less), and eight
        // calls span seven intervals.
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First >= 180, $"calls {pair.Second - pair.First} ms apart"));
        Assert.True(times[^1] - times[0] >= (cards - 1) * 200 - 50, $"{cards} calls within {times[^1] - times[0]} ms");
        // Picked up when it first arrived and when its slot came, not once per interval while it waited:
        // polling would read card i about i + 1 times (median 4.5 over eight cards). A loaded machine that
        // misses a slot costs one card a read or two more, which moves a median of 2 very little.
        var reads = counting!.Reads.Values.Order().ToArray();
        Assert.True(reads[reads.Length / 2] <= 3, $"group reads: {string.Join(", ", reads)}");
    }

    [Fact]
    public async Task BelowThresholdFindingsAreStoredButNotPosted()
    {
        var (app, chat) = Start();
        await using var _ = app;
        await app.PostEventsAsync(FindingEvents.Ec2("low-1", severity: "MEDIUM", score: 4.0).ToJsonString());
        var groupId = Assert.Single(await app.Service<IAlertStore>().GroupIdsAsync("unrouted", default));
        await TestApp.Eventually(async () => await app.Service<IWorkQueue>().CountAsync(Queues.Groups, default) == 0, "group handled");
        Assert.Empty(chat.Calls);
        Assert.NotNull(await app.Service<IAlertStore>().GetGroupAsync(groupId, default));
    }

    /// <summary>
    /// Slack's 429 names how long to wait. The bot's own backoff is made short here, so a retry that
    /// ignored Retry-After would come back well before it; the gaps are lower bounds, which load only widens.
    /// </summary>
    [Fact]
    public async Task ThrottledPostIsRetriedNoSoonerThanRetryAfterAndPostedExactlyOnce()
    {
        var retryAfter = TimeSpan.FromMilliseconds(1500);
        var (app, chat) = Start(new() { ["Dispatch:RetryBackoff"] = "00:00:00.050" });
        await using var _ = app;
        var attempts = new ConcurrentQueue<long>();
        chat.Script = op =>
        {
            if (op != "post")
            {
                return null;
            }
            attempts.Enqueue(System.Diagnostics.Stopwatch.GetTimestamp());
            return attempts.Count <= 2 ? ChatResult.Retry(retryAfter, "ratelimited") : null;
        };
        await app.PostEventsAsync(FindingEvents.Ec2("t-1").ToJsonString());
        await TestApp.Eventually(async () =>
        {
            var ids = await app.Service<IAlertStore>().GroupIdsAsync("unrouted", default);
            return ids.Count == 1 && (await app.Service<IAlertStore>().GetGroupAsync(ids[0], default))!.Cards.ContainsKey("test");
        }, "card ref stored after retries");
        Assert.Equal(3, chat.Calls.Count(c => c.Op == "post"));
        var at = attempts.ToArray();
        for (var i = 1; i < at.Length; i++)
        {
            Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(at[i - 1], at[i]) >= retryAfter - TimeSpan.FromMilliseconds(50),
                $"attempt {i + 1} came {System.Diagnostics.Stopwatch.GetElapsedTime(at[i - 1], at[i]).TotalMilliseconds} ms after the previous one");
        }
    }

    [Fact]
    public async Task PermanentFailureIsAuditedNotRetriedForever()
    {
        var (app, chat) = Start();
        await using var _ = app;
        chat.Script = op => op == "post" ? ChatResult.Failed("channel_not_found") : null;
        await app.PostEventsAsync(FindingEvents.Ec2("f-1").ToJsonString());
        await TestApp.Eventually(async () => (await app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100, default))
            .Any(a => a.Action == "chat_post_failed" && a.Detail == "channel_not_found"), "failure audited");
        await TestApp.Eventually(async () => await app.Service<IWorkQueue>().CountAsync(Queues.Groups, default) == 0, "group done");
        Assert.Single(chat.Calls, c => c.Op == "post");
    }

    [Fact]
    public async Task ThreadNotesReachTheCardsChannel()
    {
        var (app, chat) = Start();
        await using var _ = app;
        await app.PostEventsAsync(FindingEvents.Ec2("n-1").ToJsonString());
        await TestApp.Eventually(() => Task.FromResult(chat.Calls.Any(c => c.Op == "post")), "card posted");
        var groupId = Assert.Single(await app.Service<IAlertStore>().GroupIdsAsync("unrouted", default));
        await app.Service<ChatOutbox>().EnqueueThreadNoteAsync(groupId, new ChatNote("hello thread"), default, dedupKey: "n1");
        await app.Service<ChatOutbox>().EnqueueThreadNoteAsync(groupId, new ChatNote("hello thread"), default, dedupKey: "n1");
        await TestApp.Eventually(() => Task.FromResult(chat.Calls.Any(c => c.Op == "note")), "note sent");
        // Both enqueues have been worked off (sent or coalesced) once the outbox is empty: a duplicate would be in by then.
        await TestApp.Eventually(async () => await app.Service<IWorkQueue>().CountAsync(Queues.Outbox, default) == 0, "outbox drained");
        Assert.Single(chat.Calls, c => c.Op == "note" && c.Text == "hello thread" && c.Channel == "C0000000001");
    }

    [Fact]
    public async Task AChangedGroupHasItsSlaPointsPlannedWithoutWaitingForTheScan()
    {
        var (app, chat) = Start(new() { ["Sla:Scheduler:ScanInterval"] = "01:00:00" });
        await using var _ = app;
        await app.PostEventsAsync(FindingEvents.Ec2("sla-1").ToJsonString());
        await TestApp.Eventually(async () => await app.Service<IWorkQueue>().CountAsync(SlaScheduler.Queue, default) >= 3, "SLA points planned");
    }
}
