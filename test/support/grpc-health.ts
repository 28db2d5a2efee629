import { credentials, makeClientConstructor, type Client } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

type HealthClient = Client & {
  check(request: { service: string }, callback: (error: Error | null, response?: { status: string }) => void): void;
};

/** One grpc.health.v1.Health/Check against 127.0.0.1:port: the status name (SERVING, NOT_SERVING, ...). */
export function grpcHealth(port: number, serviceName: string): Promise<string> {
  const Health = makeClientConstructor(healthService as never, "Health") as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;
  const client = new Health(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.check({ service: serviceName }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(String(response?.status));
    }),
  );
}
