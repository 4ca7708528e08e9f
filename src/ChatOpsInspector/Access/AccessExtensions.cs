using ChatOpsInspector.Routing;
using ChatOpsInspector.Slack;
using ChatOpsInspector.Teams;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Access;

internal static class AccessExtensions
{
    /// <summary>Who is who across platforms, and who may read and act on which owner's alerts.</summary>
    public static IHostApplicationBuilder AddAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AccessOptions>().BindConfiguration(AccessOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AccessOptions>, AccessOptionsValidator>();
        builder.Services.AddSingleton<PeopleDirectory>();
        builder.Services.AddSingleton<AccessPolicy>();
        return builder;
    }
}

/// <summary>
/// An e-mail in a people list is only as good as the platform that vouches for it: a person of any
/// workspace or tenant could claim it. So e-mails require every configured platform to be restricted
/// to our own workspaces (<c>Slack:TeamIds</c>) and tenants (<c>Teams:TenantId</c>).
/// </summary>
internal sealed class AccessOptionsValidator(
    IOptions<RoutingOptions> routing,
    IOptionsMonitor<SlackOptions> slack,
    IOptionsMonitor<TeamsOptions> teams) : IValidateOptions<AccessOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessOptions options)
    {
        var emails = routing.Value.Rules.Select(r => r.Target).Append(routing.Value.Default)
            .SelectMany(t => t.Approvers.Concat(t.Suppressors).Concat(t.Members))
            .Concat(options.People)
            .SelectMany(e => Person.Parse(e).Emails)
            .ToArray();
        if (emails.Length == 0)
        {
            return ValidateOptionsResult.Success;
        }
        var errors = new List<string>();
        var s = slack.CurrentValue;
        if ((s.Enabled || !string.IsNullOrWhiteSpace(s.SigningSecret)) && s.TeamIds.Count == 0)
        {
            errors.Add($"Slack:TeamIds is required: people are listed by e-mail ({emails[0]}), which anyone of another workspace could claim.");
        }
        var t = teams.CurrentValue;
        if (t.IsConfigured && t.Tenants().Count == 0)
        {
            errors.Add($"Teams:TenantId is required: people are listed by e-mail ({emails[0]}), which anyone of another tenant could claim.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
