using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Alerts;

internal static class AlertsExtensions
{
    /// <summary>The outbound side: reconciling groups and publishing them to chat, plus the workflow.</summary>
    public static IHostApplicationBuilder AddAlerts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section)
            .Validate(o => o.BatchSize > 0 && o.Parallelism > 0 && o.Lease > TimeSpan.Zero, "Dispatch settings must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ChatOutbox>();
        builder.Services.AddSingleton<AlertQueries>();
        builder.Services.AddSingleton<WorkflowReconciler>();
        builder.Services.AddSingleton<WorkflowTransitions>();
        builder.Services.AddSingleton<TriagePermissions>();
        builder.Services.AddSingleton<SuppressionWorkflow>();
        builder.Services.AddSingleton<PatchWorkflow>();
        builder.Services.AddSingleton<TriageService>();
        builder.Services.AddSingleton<RemediationWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RemediationWorker>());
        builder.Services.AddSingleton<AlertDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertDispatcher>());
        return builder;
    }
}
