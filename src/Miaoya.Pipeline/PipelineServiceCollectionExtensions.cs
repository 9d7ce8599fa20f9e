using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>Registers the portrait pipeline with the built-in face detector (one ONNX session per model, disposed with the host).</summary>
public static class PipelineServiceCollectionExtensions
{
    public static IServiceCollection AddPortraitPipeline(this IServiceCollection services, Action<WebUiOptions>? configureWebUi = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddWebUiClient(configureWebUi);
        services.TryAddSingleton<IFaceDetector>(_ => BlazeFaceDetector.CreateDefault());
        services.TryAddSingleton<FaceSwapperCache>();
        services.TryAddSingleton(sp => new PortraitPipeline(
            sp.GetRequiredService<WebUiClient>(),
            sp.GetRequiredService<IFaceDetector>(),
            sp.GetRequiredService<FaceSwapperCache>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PortraitPipeline>>()));
        return services;
    }
}
