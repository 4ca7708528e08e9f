using ChatOpsInspector.Access;
using ChatOpsInspector.Ingest;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

internal static class WorkflowExtensions
{
    /// <summary>Triage actions, remediation (suppress, patch, isolate) and their timed steps.</summary>
    public static IHostApplicationBuilder AddWorkflow(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section)
            .Validate(o => string.IsNullOrEmpty(o.ApiKey) || o.ApiKey.Length >= 16, "Audit:ApiKey must be at least 16 characters.")
            .Validate<IOptions<IngestOptions>>(
                (o, ingest) => string.IsNullOrEmpty(o.ApiKey) || (o.ApiKey != ingest.Value.ApiKey && o.ApiKey != ingest.Value.BasicPassword),
                "Audit:ApiKey must differ from Ingest:ApiKey and Ingest:BasicPassword: the EventBridge connection must not be able to read the audit trail.")
            .ValidateOnStart();
        builder.Services.AddSingleton<AuditKeyFilter>();
        builder.Services.AddOptions<AuditArchiveOptions>().BindConfiguration(AuditArchiveOptions.Section).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuditArchiveOptions>, AuditArchiveOptionsValidator>());
        builder.Services.TryAddSingleton<IAuditArchiveStore, S3AuditArchiveStore>();
        builder.Services.AddSingleton<AuditArchiver>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditArchiver>());
        // Who is who and who may act: the workflow's rules are written in those terms.
        builder.AddAccess();
        builder.Services.AddSingleton<WorkflowReconciler>();
        builder.Services.AddSingleton<WorkflowTransitions>();
        builder.Services.AddSingleton<TriagePermissions>();
        builder.Services.AddSingleton<SuppressionWorkflow>();
        builder.Services.AddSingleton<PatchWorkflow>();
        builder.Services.AddSingleton<TriageService>();
        builder.Services.AddSingleton<Alerts.IAlertGroupObserver, WorkflowNotifier>();
        builder.Services.AddSingleton<RemediationWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RemediationWorker>());
        return builder;
    }
}
