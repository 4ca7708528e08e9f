using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatOpsInspector.State;

internal static partial class StateExtensions
{
    /// <summary>Redis when <c>State:Redis</c> is set, otherwise the in-memory store (local mode).</summary>
    public static IHostApplicationBuilder AddState(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StateOptions>().BindConfiguration(StateOptions.Section)
            .Validate(o => !string.IsNullOrEmpty(o.KeyPrefix), "State:KeyPrefix must not be empty.")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);

        var options = builder.Configuration.GetSection(StateOptions.Section).Get<StateOptions>() ?? new StateOptions();
        if (options.UseRedis)
        {
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
            {
                var config = RedisConfiguration.Parse(options.Redis!);
                // Start (and keep serving /healthz) while Redis is down; /readyz reports it.
                config.AbortOnConnectFail = false;
                // Fail at once while disconnected: callers answer 503 and senders retry, rather than queueing blind.
                config.BacklogPolicy = BacklogPolicy.FailFast;
                config.ConnectTimeout = Math.Min(config.ConnectTimeout, 5000);
                return ConnectionMultiplexer.Connect(config);
            });
            builder.Services.AddSingleton<RedisStore>();
            Register<RedisStore>(builder.Services);
        }
        else
        {
            builder.Services.AddSingleton<InMemoryStore>();
            Register<InMemoryStore>(builder.Services);
            builder.Services.AddHostedService<LocalModeWarning>();
        }
        return builder;
    }

    private static void Register<TStore>(IServiceCollection services)
        where TStore : class, IAlertStore, IWorkQueue, IAuditLog, IKeyValueStore
    {
        services.AddSingleton<IAlertStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IKeyValueStore>(sp => sp.GetRequiredService<TStore>());
    }

    private sealed partial class LocalModeWarning(ILogger<LocalModeWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogLocalMode();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "State:Redis is empty — local mode: state is lost on restart. Set State:Redis to run in production.")]
        private partial void LogLocalMode();
    }
}
