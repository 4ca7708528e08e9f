using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatOpsInspector.Commands;

internal static class CommandsExtensions
{
    /// <summary>The shared <c>/vulns</c> handler; safe to call from every chat platform's registration.</summary>
    public static IServiceCollection AddCommands(this IServiceCollection services)
    {
        services.TryAddSingleton<ICoverageSource, NotConfiguredCoverageSource>();
        services.TryAddSingleton<CommandHandler>();
        return services;
    }
}
