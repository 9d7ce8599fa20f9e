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
        // One box unless a fleet registered itself as IWebUiBoxes first.
        services.TryAddSingleton<IWebUiBoxes>(sp => new SingleWebUiBox(sp.GetRequiredService<WebUiClient>()));
        services.TryAddSingleton(sp => new PortraitPipeline(
            sp.GetRequiredService<IWebUiBoxes>(),
            sp.GetRequiredService<IFaceDetector>(),
            sp.GetRequiredService<FaceSwapperCache>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PortraitPipeline>>()));
        return services;
    }
}
