# The mock WebUI alone, for smoke tests in CI (a service container; docker-compose.yml's smoke profile):
# `miaoya mock-webui --listen --port 7860` on the ASP.NET Core runtime, no SDK at run time, healthy once `miaoya probe`
# answers. ONNX Runtime's CUDA and TensorRT providers (~285 MB) are left out: the mock, probe and doctor never load them.
#   docker build -f docker/mock-webui.Dockerfile -t miaoya/mock-webui:dev .
#   docker run --rm -p 7860:7860 miaoya/mock-webui:dev                     (extra flags: ... miaoya/mock-webui:dev mock-webui --listen --port 7860 --latency 2s)
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Miaoya.Cli -c Release -o /app \
 && rm -f /app/runtimes/*/native/libonnxruntime_providers_cuda.so /app/runtimes/*/native/libonnxruntime_providers_tensorrt.so

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app /app
RUN ln -s /app/miaoya /usr/local/bin/miaoya
# The image's non-root user (APP_UID, 1654 in the .NET images); the mock writes nothing but temporary files.
USER $APP_UID
EXPOSE 7860
HEALTHCHECK --interval=5s --timeout=10s --retries=30 CMD ["miaoya", "probe", "--webui", "http://127.0.0.1:7860"]
ENTRYPOINT ["miaoya"]
CMD ["mock-webui", "--listen", "--port", "7860"]
