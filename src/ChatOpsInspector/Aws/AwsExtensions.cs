using ChatOpsInspector.Commands;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

internal static class AwsExtensions
{
    /// <summary>
    /// Registers the AWS boundary: <see cref="IInspector2Client"/>, <see cref="IRunbookClient"/>, the
    /// <c>Aws</c> and <c>Remediation</c> options (validated at start-up) and lazy credential resolution.
    /// </summary>
    /// <remarks>
    /// Credentials come from the SDK default chain. A host that registers its own
    /// <see cref="AWSCredentials"/> (or <see cref="AwsCredentialsProvider"/>) before calling this uses those instead.
    /// </remarks>
    public static IHostApplicationBuilder AddAws(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddOptions<AwsOptions>().BindConfiguration(AwsOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AwsOptions>, AwsOptionsValidator>());
        services.AddOptions<RemediationOptions>().BindConfiguration(RemediationOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RemediationOptions>, RemediationOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILogger<AwsCredentialsProvider>>();
            return sp.GetService<AWSCredentials>() is { } supplied
                ? AwsCredentialsProvider.Fixed(supplied, logger)
                : AwsCredentialsProvider.DefaultChain(logger);
        });

        services.AddHttpClient<IInspector2Client, Inspector2Client>(http => http.Timeout = TimeSpan.FromSeconds(30))
            // Redirects would replay a signature made for another URL; AWS APIs do not redirect anyway.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });

        services.TryAddSingleton<AwsAccounts>();
        services.TryAddSingleton<IRunbookClient, SsmRunbooks>();
        // Replaces the "not configured" stand-in whichever registration ran first.
        builder.Services.RemoveAll<ICoverageSource>();
        builder.Services.AddSingleton<ICoverageSource, InspectorCoverageSource>();
        return builder;
    }
}
