using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Sla;

internal static class SlaExtensions
{
    /// <summary>SLA reminders, escalation and daily digests, driven by a durable schedule in the store.</summary>
    public static IHostApplicationBuilder AddSla(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SlaOptions>()
            .Validate(o => o.DigestTimeUtc >= TimeSpan.Zero && o.DigestTimeUtc < TimeSpan.FromDays(1), "Sla:DigestTimeUtc must be a time of day, e.g. 09:00.")
            .Validate(o => o.QuietHours.Values.All(q => IsTimeOfDay(q.Start) && IsTimeOfDay(q.End)), "Sla:QuietHours Start and End must be times of day, e.g. 22:00.")
            .Validate(o => o.QuietHours.Values.All(q => KnownZone(q.TimeZone)), "Sla:QuietHours TimeZone must be a known time zone id, e.g. Europe/Berlin.")
            .ValidateOnStart();
        builder.Services.AddOptions<SlaSchedulerOptions>().BindConfiguration(SlaSchedulerOptions.Section)
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.ScanInterval > TimeSpan.Zero && o.Lease > TimeSpan.Zero && o.BatchSize > 0
                && o.PlanLease > TimeSpan.Zero && o.PlanBatchSize > 0,
                "Sla:Scheduler intervals, lease and batch size must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<DigestService>();
        builder.Services.AddSingleton<SlaScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SlaScheduler>());
        builder.Services.AddSingleton<IAlertGroupObserver, SlaGroupObserver>();
        return builder;
    }

    private static bool IsTimeOfDay(TimeSpan t) => t >= TimeSpan.Zero && t < TimeSpan.FromDays(1);

    private static bool KnownZone(string? id)
    {
        try
        {
            _ = QuietHours.Zone(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return false;
        }
    }
}
