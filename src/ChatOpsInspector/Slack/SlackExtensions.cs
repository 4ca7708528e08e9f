using ChatOpsInspector.Alerts;
using ChatOpsInspector.Commands;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

internal static class SlackExtensions
{
    /// <summary>
    /// Slack endpoints, Web API client and worker. The card adapter is registered only with a bot token,
    /// so a local run without Slack still starts (and its endpoints refuse everything unsigned).
    /// </summary>
    public static IHostApplicationBuilder AddSlack(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SlackOptions>().BindConfiguration(SlackOptions.Section)
            .Validate(o => o.ApiBaseUrl.IsAbsoluteUri && o.ApiBaseUrl.Scheme is "https" or "http", "Slack:ApiBaseUrl must be an absolute http(s) URL.")
            .Validate(o => !o.Enabled || o.SocketMode || !string.IsNullOrWhiteSpace(o.SigningSecret), "Slack:SigningSecret is required when Slack:BotToken is set (or Slack:AppToken, for Socket Mode).")
            .Validate(o => !o.SocketMode || (o.AppToken!.StartsWith("xapp-", StringComparison.Ordinal) && o.Enabled),
                "Slack:AppToken must be an app-level token (xapp-…) and needs Slack:BotToken (xoxb-…) to post.")
            .Validate(o => o.SocketModeConnections is >= 1 and <= 10, "Slack:SocketModeConnections must be between 1 and 10.")
            .Validate(o => o.SocketModeBackoff > TimeSpan.Zero && o.SocketModeMaxBackoff >= o.SocketModeBackoff, "Slack:SocketModeBackoff must be positive and at most Slack:SocketModeMaxBackoff.")
            .Validate(o => (!o.Enabled && string.IsNullOrWhiteSpace(o.SigningSecret)) || o.TeamIds.Count > 0,
                "Slack:TeamIds is required when Slack is configured: the workspace id(s) (T…) or Enterprise Grid id (E…) whose people may use the bot.")
            .Validate(o => o.TeamIds.All(SlackWorkspaces.IsValidId), "Slack:TeamIds entries must be Slack team ids (T…) or Enterprise Grid ids (E…).")
            .Validate(o => o.SignatureTolerance > TimeSpan.Zero && o.SignatureTolerance <= TimeSpan.FromMinutes(5), "Slack:SignatureTolerance must be positive and at most 5 minutes.")
            .Validate(o => o.MaxBodyBytes is > 0 and <= 16 * 1024 * 1024, "Slack:MaxBodyBytes must be between 1 byte and 16 MiB.")
            .Validate(o => o.ResponseUrlHosts.All(h => Uri.CheckHostName(h) != UriHostNameType.Unknown), "Slack:ResponseUrlHosts must be host names.")
            .Validate(o => o.PeopleCacheTtl > TimeSpan.Zero, "Slack:PeopleCacheTtl must be positive.")
            .ValidateOnStart();
        builder.Services.AddHttpClient(SlackApiClient.HttpClientName, (sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<SlackOptions>>().Value;
            var baseUrl = options.ApiBaseUrl.AbsoluteUri;
            http.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
            http.Timeout = options.HttpTimeout;
        });
        builder.Services.AddSingleton<SlackApiClient>();
        builder.Services.AddCommands();
        builder.Services.AddSingleton<SlackRequestFilter>();
        builder.Services.AddSingleton<SlackWorkQueue>();
        builder.Services.AddSingleton<SlackRetryGuard>();
        builder.Services.AddSingleton<SlackUsers>();
        builder.Services.AddSingleton<SlackEmailDirectory>();
        builder.Services.AddSingleton<SlackInteractions>();
        builder.Services.AddSingleton<SlackWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SlackWorker>());

        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{SlackOptions.Section}:{nameof(SlackOptions.BotToken)}"]))
        {
            builder.Services.AddSingleton<IChatAdapter, SlackChatAdapter>();
        }
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{SlackOptions.Section}:{nameof(SlackOptions.AppToken)}"]))
        {
            builder.Services.AddHostedService<SlackSocketMode>();
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapSlack(this IEndpointRouteBuilder app)
    {
        var slack = app.MapGroup("/api/slack").AddEndpointFilter<SlackRequestFilter>().DisableAntiforgery();
        slack.MapPost("/commands", SlackApi.CommandAsync);
        slack.MapPost("/interactions", SlackInteractions.HandleAsync);
        slack.MapPost("/events", SlackApi.EventAsync);
        return app;
    }
}
