using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatOpsInspector.State;

internal static partial class StateExtensions
{
    /// <summary>Redis when <c>State:Redis</c> is set, otherwise the in-memory store (local mode).</summary>
    public static IHostApplicationBuilder AddState(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StateOptions>().BindConfiguration(StateOptions.Section)
            .Validate(o => !string.IsNullOrEmpty(RedisKeys.StripTags(o.KeyPrefix ?? "")), "State:KeyPrefix must not be empty (braces are dropped from it).")
            .Validate(o => o.Partitions is >= 1 and <= 16384, "State:Partitions must be between 1 and 16384.")
            .Validate(o => string.IsNullOrEmpty(o.CaFile) || File.Exists(o.CaFile), "State:CaFile names a file that does not exist.")
            .Validate(o => string.IsNullOrEmpty(o.Redis) || Parses(o.Redis), "State:Redis is not a valid StackExchange.Redis configuration string.")
            .Validate(o => !o.IamAuth.Enabled || o.UseRedis, "State:IamAuth:CacheName is set but State:Redis (the cache endpoint) is empty.")
            .Validate(o => !o.IamAuth.Enabled || !string.IsNullOrWhiteSpace(o.IamAuth.User), "State:IamAuth:User (the IAM-enabled user id) is required with State:IamAuth:CacheName.")
            .Validate(o => !o.IamAuth.Enabled || o.IamAuth.Service is RedisIamAuthOptions.ElastiCache or RedisIamAuthOptions.MemoryDb, "State:IamAuth:Service must be elasticache or memorydb.")
            .Validate(o => !o.IamAuth.Serverless || o.IamAuth.Service == RedisIamAuthOptions.ElastiCache, "State:IamAuth:Serverless applies to ElastiCache only (State:IamAuth:Service elasticache).")
            .Validate(o => !o.IamAuth.Enabled || string.IsNullOrEmpty(o.Password), "State:IamAuth and State:Password are exclusive: with IAM authentication the token is the password.")
            .Validate(o => !o.IamAuth.Enabled || !o.UseRedis || !Parses(o.Redis!) || UsesTls(o), "State:IamAuth needs TLS (ElastiCache and MemoryDB refuse IAM authentication without it): set ssl=true in State:Redis (or use a rediss:// URI), or State:CaFile.")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);

        var options = builder.Configuration.GetSection(StateOptions.Section).Get<StateOptions>() ?? new StateOptions();
        if (options.UseRedis)
        {
            if (options.IamAuth.Enabled)
            {
                builder.Services.AddSingleton<RedisIamAuth>();
                builder.Services.AddHostedService<RedisIamAuth.Refresher>();
            }
            builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
            {
                var config = Configure(options);
                if (sp.GetService<RedisIamAuth>() is { } iam)
                {
                    iam.Apply(config);
                    // Connect is synchronous here anyway; without a token the first handshake is refused and logged.
                    iam.TryRefreshAsync(CancellationToken.None).GetAwaiter().GetResult();
                }
                var connection = ConnectionMultiplexer.Connect(config);
                var log = new ConnectionLog(sp.GetRequiredService<ILogger<ConnectionLog>>(), sp.GetRequiredService<TimeProvider>(), options.IamAuth.Enabled);
                connection.ConnectionFailed += (_, e) => log.Failed(e);
                return connection;
            });
            builder.Services.AddSingleton<RedisStore>();
            Register<RedisStore>(builder.Services);
            builder.Services.AddHostedService<KeyPrefixWarning>();
        }
        else
        {
            builder.Services.AddSingleton<InMemoryStore>();
            Register<InMemoryStore>(builder.Services);
            builder.Services.AddHostedService<LocalModeWarning>();
        }
        return builder;
    }

    /// <summary>The connection settings: the configuration string, then the separate secret and CA settings over it.</summary>
    internal static ConfigurationOptions Configure(StateOptions options)
    {
        var config = RedisConfiguration.Parse(options.Redis!);
        if (!string.IsNullOrEmpty(options.User))
        {
            config.User = options.User;
        }
        if (!string.IsNullOrEmpty(options.Password))
        {
            config.Password = options.Password;
        }
        if (!string.IsNullOrEmpty(options.CaFile))
        {
            config.Ssl = true;
            config.TrustIssuer(options.CaFile);
        }
        // Start (and keep serving /healthz) while Redis is down; /readyz reports it.
        config.AbortOnConnectFail = false;
        // Fail at once while disconnected: callers answer 503 and senders retry, rather than queueing blind.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, 5000);
        return config;
    }

    private static bool UsesTls(StateOptions options) =>
        !string.IsNullOrEmpty(options.CaFile) || RedisConfiguration.Parse(options.Redis!).Ssl;

    private static bool Parses(string configuration)
    {
        try
        {
            _ = RedisConfiguration.Parse(configuration);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void Register<TStore>(IServiceCollection services)
        where TStore : class, IAlertStore, IWorkQueue, IAuditLog, IKeyValueStore
    {
        services.AddSingleton<IAlertStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IKeyValueStore>(sp => sp.GetRequiredService<TStore>());
    }

    /// <summary>
    /// Connection failures, at most one line per endpoint and kind a minute: a wrong password would
    /// otherwise log on every reconnect attempt. Endpoint and failure kind only, never the configuration.
    /// </summary>
    internal sealed partial class ConnectionLog(ILogger<ConnectionLog> logger, TimeProvider time, bool iamAuth = false)
    {
        private static readonly TimeSpan Every = TimeSpan.FromMinutes(1);
        private readonly Dictionary<string, DateTimeOffset> _last = [];
        private readonly Dictionary<string, int> _suppressed = [];
        private readonly Lock _gate = new();

        public void Failed(ConnectionFailedEventArgs e)
        {
            var endpoint = e.EndPoint?.ToString() ?? "?";
            var key = endpoint + "|" + e.FailureType;
            int suppressed;
            lock (_gate)
            {
                var now = time.GetUtcNow();
                if (_last.TryGetValue(key, out var last) && now - last < Every)
                {
                    _suppressed[key] = _suppressed.GetValueOrDefault(key) + 1;
                    return;
                }
                _last[key] = now;
                suppressed = _suppressed.GetValueOrDefault(key);
                _suppressed[key] = 0;
            }
            if (e.FailureType == ConnectionFailureType.AuthenticationFailure && iamAuth)
            {
                LogIamAuthenticationFailed(endpoint, suppressed);
            }
            else if (e.FailureType == ConnectionFailureType.AuthenticationFailure)
            {
                LogAuthenticationFailed(endpoint, suppressed);
            }
            else
            {
                LogConnectionFailed(endpoint, e.FailureType.ToString(), suppressed);
            }
        }

        [LoggerMessage(Level = LogLevel.Error, Message = "Redis refused the credentials at {Endpoint} (State:User / State:Password or the user= and password= of State:Redis); {Suppressed} similar failures not logged since the last line")]
        private partial void LogAuthenticationFailed(string endpoint, int suppressed);

        [LoggerMessage(Level = LogLevel.Error, Message = "Redis refused the IAM authentication token at {Endpoint} (State:IamAuth: the user must be IAM-enabled with user id equal to its name, and the bot's role must allow elasticache:Connect or memorydb:Connect on the cache and the user); {Suppressed} similar failures not logged since the last line")]
        private partial void LogIamAuthenticationFailed(string endpoint, int suppressed);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Redis connection to {Endpoint} failed: {FailureType}; {Suppressed} similar failures not logged since the last line")]
        private partial void LogConnectionFailed(string endpoint, string failureType, int suppressed);
    }

    private sealed partial class KeyPrefixWarning(IOptions<StateOptions> options, ILogger<KeyPrefixWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var prefix = options.Value.KeyPrefix;
            if (RedisKeys.StripTags(prefix) != prefix)
            {
                LogBracesDropped(prefix, RedisKeys.StripTags(prefix));
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "State:KeyPrefix {Prefix} holds a hash tag, which would put every key on one shard; keys start with {Used} instead and carry their own tags")]
        private partial void LogBracesDropped(string prefix, string used);
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
