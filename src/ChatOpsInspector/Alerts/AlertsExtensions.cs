namespace ChatOpsInspector.Alerts;

internal static class AlertsExtensions
{
    /// <summary>The outbound side: the durable queue that publishes groups and notes to chat.</summary>
    public static IHostApplicationBuilder AddAlerts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section)
            .Validate(o => o.BatchSize > 0 && o.Parallelism > 0 && o.Lease > TimeSpan.Zero, "Dispatch settings must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ChatOutbox>();
        builder.Services.AddSingleton<AlertQueries>();
        builder.Services.AddSingleton<AlertDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertDispatcher>());
        return builder;
    }
}
