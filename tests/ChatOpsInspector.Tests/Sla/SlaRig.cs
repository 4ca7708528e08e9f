using ChatOpsInspector.Aws;
using System.Text.Json;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Sla;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.Sla;

/// <summary>
/// Several service instances ("replicas") against one real Redis and one fake clock. Each instance
/// is the app's own service registration with its own Redis connection; nothing runs in the
/// background, the test drives <see cref="SlaScheduler.RunDueAsync"/> itself.
/// </summary>
internal sealed class SlaRig : IAsyncDisposable
{
    public const string Payments = "payments";
    public const string Security = "security";
    public const string PaymentsSlack = "C0PAYMENTS";
    public const string PaymentsTeams = "19:payments@thread.tacv2";
    public const string SecuritySlack = "C0SECURITY";
    public const string OnCall = "U0ONCALL";
    public const string OnCallEmail = "oncall@example.com";

    private readonly RedisServer _redis;
    private readonly string _prefix = RedisServer.UniquePrefix();
    private readonly Dictionary<string, string?> _settings;
    private readonly List<SlaNode> _nodes = [];

    /// <summary>Every message taken from the outbox so far, in the order they were queued.</summary>
    public List<Sent> Sent { get; } = [];

    public FakeTimeProvider Time { get; }

    public IReadOnlyList<SlaNode> Nodes => _nodes;

    public SlaRig(RedisServer redis, DateTimeOffset start, Dictionary<string, string?>? settings = null)
    {
        _redis = redis;
        Time = new FakeTimeProvider(start);
        _settings = new Dictionary<string, string?>
        {
            ["Routing:Rules:0:AccountIds:0"] = "111111111111",
            ["Routing:Rules:0:Target:Owner"] = Payments,
            ["Routing:Rules:0:Target:SlackChannel"] = PaymentsSlack,
            ["Routing:Rules:0:Target:TeamsChannel"] = PaymentsTeams,
            ["Routing:Rules:0:Target:Approvers:0"] = OnCall,
            ["Routing:Rules:0:Target:Approvers:1"] = OnCallEmail,
            ["Routing:Default:Owner"] = Security,
            ["Routing:Default:SlackChannel"] = SecuritySlack,
            ["Sla:Scheduler:Lease"] = "00:02:00",
            ["Sla:Scheduler:ScanInterval"] = "00:05:00",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    /// <summary>Starts one more instance over the same Redis and clock.</summary>
    public SlaNode StartNode()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(_settings);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["State:Redis"] = _redis.ConnectionString,
            ["State:KeyPrefix"] = _prefix,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddState();
        builder.AddFindings();
        builder.AddAlerts();
        builder.AddWorkflow();
        builder.AddAws();
        builder.AddSla();
        builder.Services.AddSingleton<TimeProvider>(Time);
        var node = new SlaNode(builder.Build());
        _nodes.Add(node);
        return node;
    }

    /// <summary>Stores one finding for <paramref name="owner"/> as ingest would, and returns its group id.</summary>
    public async Task<string> SeedAsync(
        string owner,
        string cve,
        Severity severity,
        DateTimeOffset firstSeen,
        double slaHours,
        bool alerting = true,
        FindingStatus status = FindingStatus.Active,
        DateTimeOffset? updatedAt = null,
        string resource = "i-0123456789abcdef0")
    {
        var store = _nodes[0].Store;
        var groupId = GroupIds.For(owner, cve);
        var meta = new GroupMeta
        {
            Owner = owner,
            VulnerabilityId = cve,
            Title = $"{cve} - openssl",
            Type = FindingType.PackageVulnerability,
            Severity = severity,
            FirstSeenAt = firstSeen,
            SlaDueAt = firstSeen.AddHours(slaHours),
            Alerting = alerting,
            SlackChannel = owner == Payments ? PaymentsSlack : SecuritySlack,
            TeamsChannel = owner == Payments ? PaymentsTeams : null,
        };
        var member = new GroupMember
        {
            FindingArn = $"arn:aws:inspector2:eu-central-1:111111111111:finding/{owner}-{cve}-{resource}",
            ResourceType = ResourceTypes.Ec2Instance,
            ResourceId = resource,
            Region = "eu-central-1",
            AccountId = "111111111111",
            Status = status,
            Severity = severity,
            FirstObservedAt = firstSeen,
            UpdatedAt = updatedAt ?? firstSeen,
        };
        await store.IngestAsync(new IngestRecord(null, groupId, meta, member), CancellationToken.None);
        return groupId;
    }

    /// <summary>Inspector closes the group's finding; the reconciler resolves the group as the dispatcher would.</summary>
    public async Task ResolveAsync(string owner, string cve, Severity severity, DateTimeOffset firstSeen, double slaHours)
    {
        var groupId = await SeedAsync(owner, cve, severity, firstSeen, slaHours, status: FindingStatus.Closed, updatedAt: Time.GetUtcNow());
        var node = _nodes[0];
        var group = await node.Store.GetGroupAsync(groupId, CancellationToken.None);
        var resolved = await node.Services.GetRequiredService<WorkflowReconciler>().ReconcileAsync(group!, CancellationToken.None);
        Assert.Equal(GroupState.Resolved, resolved.Workflow.State);
    }

    public async Task SuppressAsync(string groupId)
    {
        var store = _nodes[0].Store;
        var group = (await store.GetGroupAsync(groupId, CancellationToken.None))!;
        var by = new Actor("slack", "U0SEC", "Sec Lead");
        var next = group.Workflow with
        {
            State = GroupState.Suppressed,
            Suppression = new Suppression("accepted risk", DateTimeOffset.MaxValue, by, Time.GetUtcNow(), null, group.Workflow.State),
        };
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "suppressed", ActorPlatform = "slack", ActorId = by.UserId, ActorName = by.DisplayName, GroupId = groupId };
        Assert.True(await store.TryUpdateWorkflowAsync(groupId, group.Version, next, audit, CancellationToken.None));
    }

    /// <summary>The suppression is lifted: the group is open again where it was before.</summary>
    public async Task UnsuppressAsync(string groupId)
    {
        var store = _nodes[0].Store;
        var group = (await store.GetGroupAsync(groupId, CancellationToken.None))!;
        var next = group.Workflow with { State = group.Workflow.Suppression!.PreviousState, Suppression = null };
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "unsuppressed", ActorPlatform = "slack", ActorId = "U0SEC", ActorName = "Sec Lead", GroupId = groupId };
        Assert.True(await store.TryUpdateWorkflowAsync(groupId, group.Version, next, audit, CancellationToken.None));
    }

    public async Task AcknowledgeAsync(string groupId)
    {
        var result = await _nodes[0].Services.GetRequiredService<TriageService>()
            .ExecuteAsync(new TriageRequest(groupId, CardAction.Acknowledge, new Actor("slack", "U0DEV", "Dana Dev", Channel: SecuritySlack)), CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
    }

    /// <summary>
    /// Moves the clock to <paramref name="until"/> in <paramref name="step"/>s; at each step every live
    /// instance runs a pass at the same time, then the outbox is drained into <see cref="Sent"/>.
    /// </summary>
    public async Task RunUntilAsync(DateTimeOffset until, TimeSpan step, IEnumerable<SlaNode>? nodes = null)
    {
        var running = (nodes ?? _nodes.Where(n => !n.Disposed)).ToArray();
        while (true)
        {
            // Drained between passes too, so a point fired a second time would show as a second message.
            await Task.WhenAll(running.Select(n => n.Scheduler.RunDueAsync(CancellationToken.None)));
            await DrainOutboxAsync();
            await Task.WhenAll(running.Select(n => n.Scheduler.RunDueAsync(CancellationToken.None)));
            await DrainOutboxAsync();
            if (Time.GetUtcNow() >= until)
            {
                return;
            }
            var next = Time.GetUtcNow() + step;
            Time.SetUtcNow(next > until ? until : next);
        }
    }

    /// <summary>Takes everything queued for chat, as the dispatcher would send it.</summary>
    public async Task DrainOutboxAsync()
    {
        var queue = _nodes.First(n => !n.Disposed).Queue;
        var items = await queue.ClaimAsync(Queues.Outbox, 1000, TimeSpan.FromMinutes(1), Time.GetUtcNow(), CancellationToken.None);
        foreach (var item in items.OrderBy(i => i.DueAt))
        {
            var message = JsonSerializer.Deserialize(item.Payload!, OutboxJson.Default.OutboxMessage)!;
            Sent.Add(new Sent(Time.GetUtcNow(), item.Id, message));
            await queue.CompleteAsync(Queues.Outbox, item, Time.GetUtcNow(), CancellationToken.None);
        }
    }

    public IReadOnlyList<Sent> NotesFor(string groupId) => Sent.Where(s => s.Message.GroupId == groupId).ToArray();

    public async Task<AlertGroup> GroupAsync(string groupId) =>
        (await _nodes.First(n => !n.Disposed).Store.GetGroupAsync(groupId, CancellationToken.None))!;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}

internal sealed record Sent(DateTimeOffset At, string Id, OutboxMessage Message);

/// <summary>One service instance: the app's services over its own Redis connection.</summary>
internal sealed class SlaNode(IHost host) : IAsyncDisposable
{
    public IServiceProvider Services => host.Services;
    public SlaScheduler Scheduler => Services.GetRequiredService<SlaScheduler>();
    public IAlertStore Store => Services.GetRequiredService<IAlertStore>();
    public IWorkQueue Queue => Services.GetRequiredService<IWorkQueue>();
    public IAuditLog Audit => Services.GetRequiredService<IAuditLog>();
    public bool Disposed { get; private set; }

    /// <summary>The instance stops for good, as a killed process would: whatever it had claimed stays claimed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Disposed)
        {
            return;
        }
        Disposed = true;
        if (host is IAsyncDisposable asyncHost)
        {
            await asyncHost.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}
