using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Tracker.Server.Security;

/// <summary>Registers and applies the API key rule.</summary>
public static class SecurityExtensions
{
    /// <summary>Binds <see cref="SecurityOptions"/> to the <c>Security</c> section (checked at start) and adds the key service.</summary>
    public static IServiceCollection AddApiKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecurityOptions>().Bind(configuration.GetSection(SecurityOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidation>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<KeyGuessLimiter>();
        services.AddHostsFromUrls(configuration);
        return services;
    }

    /// <summary>Puts <see cref="ApiKeyMiddleware"/> in the pipeline; every request to the API or a hub after it is checked.</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app) => app.UseMiddleware<ApiKeyMiddleware>();
}
