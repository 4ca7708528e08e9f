namespace ChatOpsInspector.Workflow;

internal static class WorkflowExtensions
{
    /// <summary>Triage actions, remediation (suppress, patch, isolate) and their timed steps.</summary>
    public static IHostApplicationBuilder AddWorkflow(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WorkflowReconciler>();
        builder.Services.AddSingleton<WorkflowTransitions>();
        builder.Services.AddSingleton<TriagePermissions>();
        builder.Services.AddSingleton<SuppressionWorkflow>();
        builder.Services.AddSingleton<PatchWorkflow>();
        builder.Services.AddSingleton<TriageService>();
        builder.Services.AddSingleton<RemediationWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RemediationWorker>());
        return builder;
    }
}
