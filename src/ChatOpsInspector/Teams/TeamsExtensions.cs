using ChatOpsInspector.Commands;
using ChatOpsInspector.Alerts;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

internal static class TeamsExtensions
{
    /// <summary>Teams over the Bot Framework. The chat adapter is registered only when Teams:AppId is set, or in local development mode.</summary>
    public static IHostApplicationBuilder AddTeams(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TeamsOptions>().BindConfiguration(TeamsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TeamsOptions>, TeamsOptionsValidator>();
        services.AddSingleton<IValidateOptions<TeamsOptions>, LocalDevelopmentValidator>();
        services.AddSingleton<LocalDevelopmentAuth>();
        services.AddHttpClient(ConnectorClient.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15));
        services.AddHttpClient(BotTokenProvider.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15));
        services.AddSingleton<ServiceUrlPolicy>();
        services.AddSingleton<BotTokenValidator>();
        services.AddSingleton<TeamsAuthFilter>();
        services.AddSingleton<BotTokenProvider>();
        services.AddSingleton<ConnectorClient>();
        services.AddSingleton<ConversationReferences>();
        services.AddSingleton<CardViewers>();
        services.AddSingleton<TeamsPeople>();
        services.AddSingleton<TeamsMemberDirectory>();
        services.AddSingleton<CardActionHandler>();
        services.AddCommands();
        services.AddSingleton<TeamsCommands>();
        services.AddSingleton<TeamsActivityHandler>();
        services.AddSingleton<TeamsMessageQueue>();

        var teams = builder.Configuration.GetSection(TeamsOptions.Section).Get<TeamsOptions>() ?? new TeamsOptions();
        if (teams.IsConfigured || LocalDevelopmentAuth.IsEnabled(teams, builder.Environment))
        {
            services.AddSingleton<TeamsChatAdapter>();
            services.AddSingleton<IChatAdapter>(sp => sp.GetRequiredService<TeamsChatAdapter>());
            services.AddHostedService<TeamsMessageWorker>();
        }
        return builder;
    }

    /// <summary><c>POST /api/messages</c>: every Bot Framework activity, authenticated once by <see cref="TeamsAuthFilter"/>.</summary>
    public static IEndpointRouteBuilder MapTeams(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/messages").AddEndpointFilter<TeamsAuthFilter>();
        group.MapPost("", (HttpContext context, TeamsActivityHandler handler, CancellationToken cancellationToken) =>
                handler.HandleAsync(TeamsAuthFilter.ActivityOf(context), cancellationToken))
            .Produces<AdaptiveCardInvokeResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }
}
