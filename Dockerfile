# The orchestrator image: `miaoya` on the ASP.NET Core runtime (the mock WebUI runs on WireMock's Kestrel).
#   docker build -t miaoya/orchestrator:dev .      (docker-compose.yml builds it for the smoke profile)
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Miaoya.Cli -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app /app
# The demo's template photo (public domain), for smoke runs: /app/samples/template-astronaut.png.
COPY src/Miaoya.Cli/Assets/template-astronaut.png /app/samples/template-astronaut.png
RUN ln -s /app/miaoya /usr/local/bin/miaoya
ENTRYPOINT ["miaoya"]
