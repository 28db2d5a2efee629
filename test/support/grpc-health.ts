import { credentials, makeClientConstructor, type Client } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** The status (SERVING, NOT_SERVING, ...) a gRPC health server reports for `serviceName` ("" = the server). */
export function grpcHealth(port: number, serviceName: string, host = "127.0.0.1"): Promise<string> {
  const Health = makeClientConstructor(healthService as never, "Health") as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & {
    check(request: { service: string }, callback: (error: Error | null, response?: { status: string }) => void): void;
  };
  const client = new Health(`${host}:${port}`, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.check({ service: serviceName }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(String(response?.status));
    }),
  );
}
