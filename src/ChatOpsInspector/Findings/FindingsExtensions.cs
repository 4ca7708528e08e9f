using ChatOpsInspector.Routing;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Findings;

internal static class FindingsExtensions
{
    /// <summary>Alert policy, SLA and routing: everything that decides where a finding goes.</summary>
    public static IHostApplicationBuilder AddFindings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertingOptions>().BindConfiguration(AlertingOptions.Section)
            .Validate(o => o.MinInspectorScore is null or (>= 0 and <= 10), "Alerting:MinInspectorScore must be between 0 and 10.")
            .Validate(o => o.MinEpss is null or (>= 0 and <= 1), "Alerting:MinEpss must be between 0 and 1.")
            .ValidateOnStart();
        builder.Services.AddOptions<SlaOptions>().BindConfiguration(SlaOptions.Section)
            .Validate(o => o.Critical > 0 && o.High > 0 && o.Medium > 0 && o.Low > 0, "Sla hours must be positive.")
            .Validate(o => o.Reminders.All(r => r is > 0 and < 1), "Sla:Reminders must be fractions between 0 and 1.")
            .ValidateOnStart();
        builder.Services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RoutingOptions>, RoutingOptionsValidator>();
        builder.Services.AddOptions<Dictionary<string, AccountInfo>>().BindConfiguration("Accounts");
        builder.Services.AddSingleton<AlertPolicy>();
        builder.Services.AddSingleton<FindingRouter>();
        return builder;
    }
}
