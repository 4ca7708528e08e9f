using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;

namespace ChatOpsInspector.Workflow;

internal static class SecurityHubExtensions
{
    /// <summary>
    /// The <c>SecurityHub</c> section and, when <c>SecurityHub:WriteBack</c> is on, the write-back
    /// observer and worker. Uses the AWS credentials that <c>AddAws</c> registered.
    /// </summary>
    public static IHostApplicationBuilder AddSecurityHub(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityHubOptions>().BindConfiguration(SecurityHubOptions.Section)
            .Validate(o => o.MaxAttempts is >= 1 and <= 100, "SecurityHub:MaxAttempts must be between 1 and 100.")
            .Validate(o => string.IsNullOrWhiteSpace(o.ServiceUrl)
                || (Uri.TryCreate(o.ServiceUrl, UriKind.Absolute, out var u) && u.Scheme is "https" or "http"),
                "SecurityHub:ServiceUrl must be an absolute http(s) URL.")
            .ValidateOnStart();
        builder.Services.AddHttpClient<ISecurityHubClient, SecurityHubClient>(http => http.Timeout = TimeSpan.FromSeconds(30))
            // A redirect would replay a signature made for another URL.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        if (builder.Configuration.GetValue<bool>("SecurityHub:WriteBack"))
        {
            builder.Services.AddSingleton<IAlertGroupObserver, SecurityHubWriteBackObserver>();
            builder.Services.AddSingleton<SecurityHubWriteBack>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SecurityHubWriteBack>());
        }
        return builder;
    }
}
