namespace ChatOpsInspector.Sla;

/// <summary>Section <c>Sla:Scheduler</c>: how the SLA schedule is planned and drained.</summary>
internal sealed class SlaSchedulerOptions
{
    public const string Section = "Sla:Scheduler";

    /// <summary>How often due reminders are looked for when the last pass found none.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each replica looks for groups and owners whose schedule is not planned yet.</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A claimed item whose replica dies is fired by another one after this long.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    public int BatchSize { get; set; } = 32;

    /// <summary>A digest more than this late (the service was down at digest time) is dropped; the next one covers it.</summary>
    public TimeSpan DigestMaxDelay { get; set; } = TimeSpan.FromHours(12);
}
