namespace ChatOpsInspector.Sla;

/// <summary>Section <c>Sla:Scheduler</c>: how the SLA schedule is planned and drained.</summary>
internal sealed class SlaSchedulerOptions
{
    public const string Section = "Sla:Scheduler";

    /// <summary>How often due reminders are looked for when the last pass found none.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each replica tries to plan the groups that changed and the owners' digests.</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A claimed item whose replica dies is fired by another one after this long.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    public int BatchSize { get; set; } = 32;

    /// <summary>Only one replica plans at a time; a replica that dies mid-pass holds planning up this long at most.</summary>
    public TimeSpan PlanLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Changed groups read per planning step; the lease is renewed after each.</summary>
    public int PlanBatchSize { get; set; } = 256;

    /// <summary>A digest more than this late (the service was down at digest time) is dropped; the next one covers it.</summary>
    public TimeSpan DigestMaxDelay { get; set; } = TimeSpan.FromHours(12);
}
