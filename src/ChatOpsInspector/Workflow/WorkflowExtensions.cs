using ChatOpsInspector.Access;

namespace ChatOpsInspector.Workflow;

internal static class WorkflowExtensions
{
    /// <summary>Triage actions, remediation (suppress, patch, isolate) and their timed steps.</summary>
    public static IHostApplicationBuilder AddWorkflow(this IHostApplicationBuilder builder)
    {
        // Who is who and who may act: the workflow's rules are written in those terms.
        builder.AddAccess();
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
