package zmq_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// A broker with CURVE: only the listed client key may request, and only the worker
// key granted "echo" may serve it. (ebbroker reads the same from key files:
// --curve-secret, --clients-allow, --workers-allow.)
func ExampleBrokerCurve() {
	brokerPub, brokerSec, err := zmq.NewCurveKeyPair()
	if err != nil {
		log.Fatal(err)
	}
	workerPub, workerSec, _ := zmq.NewCurveKeyPair()
	clientPub, clientSec, _ := zmq.NewCurveKeyPair()

	broker, err := zmq.NewBroker(zmq.BrokerOptions{
		Frontend: "tcp://127.0.0.1:*",
		Backend:  "tcp://127.0.0.1:*",
		Curve:    &zmq.BrokerCurve{SecretKey: brokerSec, Allow: []string{workerPub, clientPub}},
		Config: core.BrokerConfig{Access: core.Access{
			Workers: []core.Grant{{Service: "echo", Key: workerPub}},
			Clients: []string{clientPub},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- broker.Run(ctx) }()

	worker := zmq.NewWorker(broker.Backend(), "echo", zmq.WorkerOptions{
		Curve: &zmq.CurveKeys{ServerKey: brokerPub, PublicKey: workerPub, SecretKey: workerSec}})
	go worker.Serve(ctx, func(_ context.Context, request [][]byte) [][]byte { return request })
	client, err := zmq.NewClient(broker.Frontend(), zmq.ClientOptions{
		Curve: &zmq.CurveKeys{ServerKey: brokerPub, PublicKey: clientPub, SecretKey: clientSec}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	reply, err := client.Request(ctx, "echo", []byte("hello, encrypted"))
	fmt.Printf("%s %v\n", reply[0], err)

	stop()
	fmt.Println("broker stopped:", <-done)
	// Output:
	// hello, encrypted <nil>
	// broker stopped: <nil>
}
